"""Loading CRM exports from the landing folder into the raw lake."""
