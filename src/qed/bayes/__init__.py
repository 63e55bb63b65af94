"""Bayesian inference of the notes: prior, likelihood, evidence, posterior, for the coin.

``bernoulli_mle`` is the maximum-likelihood bias Σx/n; ``BetaBernoulli`` is the conjugate
Beta prior / Bernoulli likelihood model with its MAP, credible interval, predictive
probability and evidence.
"""

from qed.bayes.beta_bernoulli import BetaBernoulli, bernoulli_mle, beta_mode

__all__ = ["bernoulli_mle", "beta_mode", "BetaBernoulli"]
