"""Customer lifetime value (docs/reference.md §4.6): a BG/NBD model of purchase occasions and a Gamma-Gamma model of spend.

- `bgnbd`: the BG/NBD likelihood, its maximum-likelihood fit, P(alive) and E[Y(H) | x, t_x, T].
- `gamma_gamma`: the Gamma-Gamma likelihood of mean spend, its fit and E[M | x, m].
- `sufficient`: customers sharing (x, t_x, T) grouped once, with their count as a weight.
- `optimise`: the maximum-likelihood driver both models share (log-parameters, convergence report).
- `fit`: `fit_clv`, both models on per-customer arrays, with the per-customer columns of §4.5.
- `simulate`: the generative processes, for tests and benchmarks.
"""

from .fit import ClvFit, fit_clv
from .optimise import ModelFit

__all__ = ["ClvFit", "ModelFit", "fit_clv"]
