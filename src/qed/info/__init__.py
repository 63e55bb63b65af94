"""Information theory of the notes: entropy, KL divergence, mutual information, cross entropy.

Discrete measures take probability arrays (validated, not silently normalised; see
``normalize=True``), ``base`` (None = nats, 2 = bits) and, where one distribution is reduced,
``axis`` as ``scipy.stats.entropy``. The Gaussian measures are closed forms through Cholesky.
"""

from qed.info.divergence import cross_entropy, kl_divergence
from qed.info.entropy import conditional_entropy, entropy, joint_entropy, self_information
from qed.info.gaussian import gaussian_entropy, gaussian_kl
from qed.info.mutual import contingency, mutual_information

__all__ = [
    "self_information",
    "entropy",
    "joint_entropy",
    "conditional_entropy",
    "mutual_information",
    "kl_divergence",
    "cross_entropy",
    "contingency",
    "gaussian_entropy",
    "gaussian_kl",
]
