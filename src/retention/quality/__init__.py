"""The audit between build and publish: reconciliation checks, validated by great-expectations."""
