"""Kernel ridge regression: the notes' dual solution of ridge in a feature space φ.

The notes: minimising ‖Y − φ(X)ᵀβ‖² + λ‖β‖² gives β* = φ(X)(φ(X)ᵀφ(X) + λI)⁻¹Y, so with
K = φ(X)ᵀφ(X) (K_ij = k(xᵢ, xⱼ)) the dual coefficients are α* = (K + λI)⁻¹y and the
prediction is f*(x) = K(x, X)α*. With sample weights W the system is (WK + λI)α = Wy
(scikit-learn's convention). No intercept, as in scikit-learn.

Beyond n ≈ 10,000 the n³/3 flops and n² memory of that solve give way to FALKON
(``solver="falkon"``, ``qed.linear._falkon``): f(x) = K(x, C)β on m Nyström centres C, with
(K_nmᵀWK_nm + λK_mm)β = K_nmᵀWy solved by preconditioned conjugate gradients in passes over
row blocks — numpy, dask (on the workers) or Array API arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg, sparse

from qed._array_api import get_namespace
from qed._blockwise import is_dask_collection
from qed._kernels_xp import resolve_gamma
from qed._rbf import rbf_upper
from qed._validation import check_array, check_sample_weight, check_X_y
from qed.base import BaseEstimator, RegressorMixin
from qed.bounds import rounding
from qed.certificate import Certificate, scaled_tolerance
from qed.kernels import KERNELS, pairwise_kernel
from qed.linear._checks import RankDeficiencyWarning, check_alpha
from qed.linear._ls_bounds import kernel_ridge_bounds
from qed.linear._solvers import spd_solve_refined

__all__ = ["KernelRidge", "solve_kernel_ridge", "estimator_kernel"]

_SOLVERS = ("auto", "cholesky", "falkon")
# "auto" solves exactly up to this many samples: the n × n kernel is 0.8 GB and its Cholesky
# about a minute here; beyond it FALKON's O(n·m) passes win by orders of magnitude.
_AUTO_MAX_N = 10_000

# Below this size the float64 Cholesky costs under a millisecond; mixed precision only pays
# once the O(n³) factorisation dominates the O(n²) refinement steps.
_REFINE_MIN_N = 500


def solve_kernel_ridge(
    K: np.ndarray, Y: np.ndarray, alpha: np.ndarray, sw: np.ndarray | None = None
) -> np.ndarray:
    """α = (K + λI)⁻¹y by Cholesky, overwriting K; weighted: √W(√WK√W + λI)⁻¹√Wy.

    For float64 and n ≥ 500 the factorisation is done in float32 and refined to float64
    accuracy (``spd_solve_refined``, LAPACK dsposv's scheme), falling back to a float64
    Cholesky when K + λI is too ill-conditioned for that.

    K (n, n) symmetric positive semi-definite, of which only the upper triangle is read (and
    overwritten), Y (n, t),
    alpha (t,) ≥ 0. Returns the dual coefficients (n, t). A singular K + λI (λ = 0) falls
    back to least squares with a warning, as scikit-learn.
    """
    n, t = Y.shape
    refine = K.dtype == np.float64 and n >= _REFINE_MIN_N
    if sw is not None:
        root = np.sqrt(sw)
        Y = Y * root[:, None]
        K *= root[:, None]
        K *= root[None, :]
    dual = np.empty((n, t), dtype=np.result_type(K.dtype, Y.dtype))
    alphas = np.unique(alpha)
    for i, a in enumerate(alphas):
        cols = np.flatnonzero(alpha == a)
        last = i == len(alphas) - 1
        A = K if last else K.copy()  # the last factorisation may destroy K
        A.flat[:: n + 1] += a
        if refine:
            solved = spd_solve_refined(A, Y[:, cols])
            if solved is not None:
                dual[:, cols] = solved
                continue
        try:
            c = linalg.cho_factor(A, lower=False, overwrite_a=True, check_finite=False)
            dual[:, cols] = linalg.cho_solve(c, Y[:, cols], check_finite=False)
        except np.linalg.LinAlgError:
            warnings.warn(
                "Singular matrix in solving dual problem (K + alpha·I is not positive "
                "definite). Using least-squares solution instead; a larger alpha fixes it.",
                RankDeficiencyWarning,
                stacklevel=3,
            )
            A = np.triu(A) + np.triu(A, 1).T  # potrf may have overwritten part of A
            dual[:, cols] = linalg.lstsq(A, Y[:, cols])[0]
    if sw is not None:
        dual *= root[:, None]
    return dual


def training_kernel(est: Any, X: np.ndarray) -> np.ndarray:
    """K(X, X) for ``solve_kernel_ridge``, which reads its upper triangle alone: an rbf kernel
    on dense float64 X is made as that triangle (``qed._rbf.rbf_upper``: half the products
    and exponentials, 61 → 30 ms at n = 4,000 on one core), any other kernel whole."""
    if isinstance(est.kernel, str) and est.kernel == "rbf" and isinstance(X, np.ndarray):
        if X.dtype == np.float64:
            return rbf_upper(X, resolve_gamma(est.gamma, X.shape[1]))
    return estimator_kernel(est, X)


def estimator_kernel(est: Any, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
    """K(X, Y) for a kernel estimator's ``kernel``, ``gamma``, ``degree``, ``coef0`` and
    ``kernel_params`` (X itself when ``kernel="precomputed"``)."""
    if isinstance(est.kernel, str) and est.kernel == "precomputed":
        return X
    if isinstance(est.kernel, str) and est.kernel not in KERNELS:
        raise ValueError(
            f"kernel={est.kernel!r} is not supported; choose one of "
            f"{sorted(KERNELS) + ['precomputed']} or pass a callable."
        )
    if callable(est.kernel):  # scikit-learn's convention: a callable gets kernel_params only
        return pairwise_kernel(X, Y, est.kernel, **dict(est.kernel_params or {}))
    return pairwise_kernel(X, Y, est.kernel, gamma=est.gamma, degree=est.degree, coef0=est.coef0)


class KernelRidge(RegressorMixin, BaseEstimator):
    """Kernel ridge regression: α = (K + λI)⁻¹y, f(x) = K(x, X)α; or FALKON beyond n³.

    Parameters
    ----------
    alpha : float or ndarray of shape (n_targets,), default=1.0
    kernel : {"linear", "poly", "polynomial", "rbf", "precomputed"} or callable
        A callable is ``k(x, y, **kernel_params) -> float`` on two rows. With
        "precomputed", X in fit is the (n, n) training kernel and X in predict K(test, train).
    gamma, degree, coef0 : kernel parameters (γ defaults to 1/n_features).
    kernel_params : dict, optional, extra arguments of a callable kernel.
    solver : {"auto", "cholesky", "falkon"}, default="auto"
        "cholesky" solves (K + λI)α = y exactly (n³/3 flops, n² memory). "falkon" restricts
        f to m Nyström centres, f(x) = K(x, C)β, and solves the Nyström normal equations
        (K_nmᵀWK_nm + λK_mm)β = K_nmᵀWy by FALKON's preconditioned conjugate gradients
        (``qed.linear._falkon``) in O(n·m) memory-light passes. "auto" is "cholesky" up to
        n = 10,000 samples and "falkon" above, or for dask arrays.
    n_centers : int, optional
        m, the number of centres drawn from X ("falkon"); default ⌈5√n⌉. m = n reproduces
        the exact solution.
    center_selection : {"uniform", "leverage"}, default="uniform"
        How the centres are drawn ("falkon"). "uniform": without replacement, uniformly.
        "leverage": with probability ∝ approximate ridge leverage scores
        ℓᵢ = [K(K + αI)⁻¹]ᵢᵢ, estimated from m uniformly drawn rows, over a uniform pool
        of 10·m candidate rows (all rows when n ≤ 10·m; ``qed.linear._centers``); it costs
        O(m³) flops more, and carries the kernel with fewer centres where the data are
        uneven (clusters, outlying regions).
    max_iter : int, optional
        Conjugate-gradient iterations at most ("falkon"); default 100.
    tol : float, optional
        CG stops when ‖(K_nmᵀWK_nm + λK_mm)β − K_nmᵀWy‖ ≤ tol·‖K_nmᵀWy‖ ("falkon");
        default 1e-7 (1e-4 for float32 data).
    random_state : None, int, numpy Generator or RandomState
        Draws the centres ("falkon"); with "uniform", an int draws the same rows as
        scikit-learn's ``Nystroem(random_state=int)``, so that both solve the same problem.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_fit,) or (n_fit, n_targets)
        α (n_fit = n_samples) or, with "falkon", β (n_fit = m).
    X_fit_ : ndarray of shape (n_fit, n_features)
        The training data (or kernel), or with "falkon" the m centres.
    solver_ : str, "cholesky" or "falkon".
    n_iter_ : int, CG iterations ("falkon"); 1 for the direct "cholesky" solve.
    center_indices_ : ndarray of shape (m,), rows of X used as centres ("falkon").

    Array API arrays (torch on CPU or GPU, ``array_api_strict``) are fitted in their own
    library and device for the named kernels; fitted arrays are of that type.
    """

    def __init__(
        self,
        alpha: Any = 1.0,
        *,
        kernel: str | Callable = "linear",
        gamma: float | None = None,
        degree: float = 3,
        coef0: float = 1,
        kernel_params: dict | None = None,
        solver: str = "auto",
        n_centers: int | None = None,
        center_selection: str = "uniform",
        max_iter: int | None = None,
        tol: float | None = None,
        random_state: Any = None,
    ) -> None:
        self.alpha = alpha
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.solver = solver
        self.n_centers = n_centers
        self.center_selection = center_selection
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _use_falkon(self, X: Any, y: Any) -> bool:
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not supported; choose one of {_SOLVERS}.")
        dask = is_dask_collection(X) or is_dask_collection(y)
        if dask and self.solver == "cholesky":
            raise ValueError(
                "solver='cholesky' needs the n × n kernel in one process; fit dask arrays "
                "with solver='falkon' (or 'auto'), or compute them to numpy first."
            )
        if self.solver != "auto":
            return self.solver == "falkon"
        try:
            n = X.shape[0] if hasattr(X, "shape") else len(X)
        except TypeError:  # not an array at all: the cholesky path's checks name the problem
            n = 0
        return dask or (n > _AUTO_MAX_N and self.kernel != "precomputed")

    def _mark_cholesky(self) -> None:
        self.solver_ = "cholesky"
        self.n_iter_ = 1  # one direct solve
        self.__dict__.pop("center_indices_", None)  # a previous falkon fit's, now stale

    def _get_kernel(self, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
        return estimator_kernel(self, X, Y)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KernelRidge:
        """Solve (K + λI)α = y. X (n_samples, n_features); y (n_samples[, n_targets])."""
        self._record_sample_weight(sample_weight)
        if sparse.issparse(X) and self.kernel == "precomputed":
            raise TypeError(
                "Sparse matrices are not supported for X with kernel='precomputed': the kernel "
                "matrix K(X, X) is dense by nature; pass K.toarray()."
            )
        if self._use_falkon(X, y):
            if sparse.issparse(X):
                raise TypeError(
                    "Sparse matrices are not supported for X by solver='falkon' (chosen by "
                    "'auto' beyond 10,000 samples); pass X.toarray(), or solver='cholesky' for "
                    "the exact fit on sparse X."
                )
            from qed.linear._falkon_fit import fit_falkon

            return fit_falkon(self, X, y, sample_weight, lambda t: check_alpha(self.alpha, t))
        xp, is_numpy = get_namespace(X, y)
        if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
            from qed.linear._array_api_path import fit_kernel_ridge_xp

            fit_kernel_ridge_xp(self, xp, X, y, sample_weight)
            self._mark_cholesky()
            return self
        X, y = check_X_y(
            X,
            y,
            estimator=self,
            multi_output=True,
            y_numeric=True,
            accept_sparse=self.kernel != "precomputed",  # a kernel matrix is dense by nature
        )
        y = y.astype(X.dtype, copy=False)
        Y = y.reshape(len(y), -1)
        alpha = check_alpha(self.alpha, Y.shape[1])
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"kernel='precomputed' needs the square training kernel K(X, X) as X, got "
                f"shape {X.shape}."
            )
        sw = (
            None
            if sample_weight is None
            else check_sample_weight(sample_weight, X, only_positive=True)
        )
        K = training_kernel(self, X)
        if K is X:  # precomputed: the user's matrix is not ours to overwrite
            K = X.copy()
        dual = solve_kernel_ridge(K, Y, alpha, sw).astype(X.dtype, copy=False)
        self.dual_coef_ = dual.ravel() if y.ndim == 1 else dual
        self.X_fit_ = X
        self._y_fit = Y  # kept for the certificate (n × t, small beside X_fit_)
        self._sw_fit = sw
        self._alpha = alpha
        self._mark_cholesky()
        return self

    def predict(self, X: Any) -> np.ndarray:
        """f(x) = K(x, X_fit)α, shape (n_samples,) or (n_samples, n_targets), in row blocks."""
        self._check_fitted("dual_coef_")
        if is_dask_collection(X):
            return self._predict_dask(X)
        xp, is_numpy = get_namespace(X)
        if not is_numpy:
            from qed.linear._array_api_path import predict_kernel_ridge_xp

            return predict_kernel_ridge_xp(self, xp, X)
        X = check_array(X, estimator=self, reset=False, accept_sparse=self.kernel != "precomputed")
        if self.kernel == "precomputed":
            return X @ self.dual_coef_.astype(X.dtype, copy=False)
        # K(x, X_fit) for a block of rows at a time: never more than ~64 MB of it
        rows = max(1, (64 * 2**20) // (8 * max(self.X_fit_.shape[0], 1)))
        parts = []
        for s in range(0, X.shape[0], rows):
            K = self._get_kernel(X[s : s + rows], self.X_fit_)
            parts.append(K @ self.dual_coef_.astype(K.dtype, copy=False))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _predict_dask(self, X: Any) -> Any:
        """Predict each row chunk of a dask X on its worker."""
        if X.ndim != 2:
            raise ValueError(f"Expected a 2D dask array X, got shape {X.shape}.")
        X = X.rechunk({1: -1})
        dual = self.dual_coef_
        dtype = np.result_type(X.dtype, dual.dtype, np.float32)
        if dual.ndim == 1:
            return X.map_blocks(self.predict, dtype=dtype, drop_axis=1)
        return X.map_blocks(self.predict, dtype=dtype, chunks=(X.chunks[0], (dual.shape[1],)))

    def certificate(self, X: Any = None, y: Any = None, sample_weight: Any = None) -> Certificate:
        """The dual optimality condition W(y − Kα) − λα = 0, i.e. (K + λI)α = y unweighted.

        Measured on the training data by default; given X and y (the training set, as α
        lives on its points), K is recomputed from them. With solver "falkon": the relative
        residual of the Nyström normal equations, measured in one blocked pass over the data.
        """
        self._check_fitted("dual_coef_")
        self._check_certificate_weights(X, sample_weight)
        if getattr(self, "solver_", "cholesky") == "falkon":
            return self._falkon_certificate(X, y, sample_weight)
        if X is None and y is None:
            X, Y, w = self.X_fit_, self._y_fit, self._sw_fit
        elif X is None or y is None:
            raise ValueError("certificate needs both X and y (or neither, for the training data).")
        else:
            sparse_ok = self.kernel != "precomputed"
            X, y = check_X_y(X, y, multi_output=True, accept_sparse=sparse_ok)
            check_array(X, estimator=self, reset=False, accept_sparse=sparse_ok)  # same features
            Y = y.reshape(len(y), -1)
            w = (
                None
                if sample_weight is None
                else check_sample_weight(sample_weight, X, only_positive=True)
            )
        if not get_namespace(self.dual_coef_)[1]:  # fitted on torch/array_api_strict arrays
            from qed.linear._array_api_path import to_numpy

            X = to_numpy(X) if X is self.X_fit_ else X
            A = to_numpy(self.dual_coef_).reshape(self.dual_coef_.shape[0], -1)
        else:
            A = self.dual_coef_.reshape(len(self.dual_coef_), -1)
        if X.shape[0] != A.shape[0] or Y.shape[1] != A.shape[1]:
            raise ValueError(
                f"The dual coefficients live on the {A.shape[0]} training samples; pass the "
                f"training X and y to certificate (got {X.shape[0]} samples)."
            )
        # the kernel of the data's values in float64: a float32 model is certified against
        # the exact problem, not against its own float32 kernel's rounding
        X64 = X if self.kernel == "precomputed" else X.astype(np.float64)
        K = np.asarray(self._get_kernel(X64), dtype=np.float64)
        coef_dtype, A = A.dtype, A.astype(np.float64)
        R = Y - K @ A
        w = np.ones(len(Y)) if w is None else w
        G = w[:, None] * R - self._alpha * A
        k_norm = float(np.linalg.norm(K))
        a_norm = float(np.linalg.norm(A))
        scale = (
            float(np.max(w, initial=1.0)) * (k_norm * a_norm + float(np.linalg.norm(Y)))
            + float(np.max(self._alpha, initial=0.0)) * a_norm
        )
        cert = Certificate(type(self).__name__)
        cert.add(
            "dual_equations",
            float(np.linalg.norm(G)),
            scaled_tolerance(scale, dtype=coef_dtype, n=K.shape[0]),
            "‖W(y − Kα) − λα‖ = 0, i.e. (K + λI)α = y",
        )
        bounds, note = kernel_ridge_bounds(
            K,
            G,
            w,
            np.broadcast_to(np.asarray(self._alpha, dtype=np.float64), (G.shape[1],)),
            grad_error=rounding(K.shape[0] + 4, scale),
        )
        cert.set_bounds(bounds, note)
        return cert

    def _falkon_certificate(self, X: Any, y: Any, sample_weight: Any) -> Certificate:
        from qed.linear._array_api_path import to_numpy
        from qed.linear._falkon_fit import falkon_certificate_data

        residual, rhs = falkon_certificate_data(self, X, y, sample_weight)
        dtype = to_numpy(self.dual_coef_[:1]).dtype
        m = int(self.X_fit_.shape[0])
        cert = Certificate(type(self).__name__)
        cert.add(
            "nystroem_normal_equations",
            residual / max(rhs, np.finfo(float).tiny),
            10.0 * self._tol + scaled_tolerance(1.0, dtype=dtype, n=m),
            "‖(K_nmᵀWK_nm + λK_mm)β − K_nmᵀWy‖ / ‖K_nmᵀWy‖ ≤ tol: the normal equations of "
            "min ‖y − K_nmβ‖²_W + λβᵀK_mmβ over f = K(·, C)β, to FALKON's CG tolerance",
        )
        cert.set_bounds(
            {},
            "no error bounds for FALKON: its residual is measured in the coordinates β, while "
            "a bound in ‖·‖_H needs K_mm⁻¹ applied to it; use solver='cholesky' for bounds",
        )
        return cert

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.input_tags.sparse = self.kernel != "precomputed" and self.solver != "falkon"
        return tags
