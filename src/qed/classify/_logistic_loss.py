"""The negative log-likelihood of logistic and softmax regression, its gradient and Hessian.

Parameters are packed as Θ of shape (k', d₁): one row per linear score (k' = 1 for two
classes, k' = k for softmax), the intercept in the last column when ``fit_intercept``
(d₁ = d + 1), else d₁ = d. With sample weights sᵢ and α = 1/C the objective is

    f(Θ) = Σᵢ sᵢ·(−log pᵢ) + (α/2)·‖W‖²          (W = Θ without the intercept column),

which is scikit-learn's C·Σ −log pᵢ + ½‖W‖² divided by C (the same minimiser; α = 0 is the
pure MLE of the notes). The notes' derivatives:

- sigmoid: ∇_w f = Σᵢ (σᵢ − yᵢ)xᵢ + αw,  ∇²f = XᵀSX + αI with S = diag(sᵢσᵢ(1 − σᵢ)) ⪰ 0;
- softmax: ∇_{w_m} f = Σᵢ (p_im − y_im)xᵢ + αw_m, and the (m, l) block of the Hessian is
  Xᵀ diag(sᵢ p_im(δ_ml − p_il)) X.

X may be a scipy.sparse CSR matrix: then every product is a sparse matrix-vector product
(Xv, Xᵀr), the Hessian-vector product is X̃ᵀ(S(X̃v)), and the Hessian X̃ᵀSX̃ (formed only
when the Newton driver asks for it, i.e. when d is small) is a sparse product; X is never
densified.

Everything is computed stably (``_logistic_kernels``): log σ(±z) = −log1p(e^{−|z|}) − max(∓z, 0),
and log-sum-exp for the softmax.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from qed import _sparse_kernels as SK
from qed.classify import _logistic_kernels as K

__all__ = [
    "scores",
    "binary_loss_grad",
    "binary_hessian",
    "binary_hessp",
    "multinomial_loss_grad",
    "multinomial_hessp",
    "multinomial_hessian",
    "intercept_jacobi",
]


def scores(Theta: np.ndarray, X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """Z = X Wᵀ + b, shape (n_samples, k')."""
    if fit_intercept:
        return X @ Theta[:, :-1].T + Theta[:, -1]
    return X @ Theta.T


def _grad_from_residual(R, X, Theta, alpha, fit_intercept):
    """∇f = Rᵀ[X 1] + α[W 0] for the residual R = S·(P − Y) of shape (n, k')."""
    G = np.empty_like(Theta)
    if sparse.issparse(X):
        XtR = np.asarray(X.T @ R).T  # sparse Xᵀ times the dense residual
        G[:, : X.shape[1]] = XtR
        if fit_intercept:
            G[:, -1] = R.sum(axis=0)
        G[:, : X.shape[1]] += alpha * Theta[:, : X.shape[1]]
        return G
    if fit_intercept:
        G[:, :-1] = R.T @ X
        G[:, -1] = R.sum(axis=0)
        G[:, :-1] += alpha * Theta[:, :-1]
    else:
        G[:] = R.T @ X
        G += alpha * Theta
    return G


def _penalty(Theta, alpha, fit_intercept):
    W = Theta[:, :-1] if fit_intercept else Theta
    return 0.5 * alpha * float(np.vdot(W, W)) if alpha else 0.0


def binary_loss_grad(Theta, X, y, sw, alpha, fit_intercept, x_max=None, moments=None):
    """f, ∇f and the IRLS weights sᵢσᵢ(1 − σᵢ) for labels y ∈ {0, 1}.

    Theta : (1, d₁); X : (n, d); y, sw : (n,). Returns (float, (1, d₁), (n,)).
    −log pᵢ = −log σ(±zᵢ) with the sign +1 for yᵢ = 1, computed without overflow.
    x_max : optional list; max|X|, found on the same pass, is appended to it.
    moments : optional list; for a sparse X at Θ = 0, the column moments (XᵀW1, diag XᵀWX)
        of the returned weights W are appended, found on the gradient's pass
        (``intercept_jacobi`` takes them instead of a pass of its own).
    """
    d = X.shape[1]
    b = float(Theta[0, d]) if fit_intercept else 0.0
    if y.dtype.kind not in "iuf":  # integer codes go in as they are: no conversion pass
        y = np.asarray(y, dtype=np.float64)
    if sparse.issparse(X):
        w_ = np.ascontiguousarray(Theta[0, :d])
        indptr, indices, data, bounds = SK.csr_arrays(X)
        m = None
        if b == 0.0 and not w_.any():  # Θ = 0 (a fit's start): every zᵢ = 0, nothing to gather
            r = sw * (0.5 - y)  # σ(0) = ½, −log σ(0) = log 2, σ(0)(1 − σ(0)) = ¼
            nll, w = float(np.log(2.0) * sw.sum()), 0.25 * sw
            g = np.empty(d + 1)
            # the CG preconditioner's moments and max|X| on the same read as the gradient
            g[:d], cw, dw, m = SK.csr_rmatvec_and_moments(indptr, indices, data, r, w, d, bounds)
            g[d] = r.sum()
            if moments is not None:
                moments.append((cw, dw))
        else:
            nll, g, w = K.binary_sparse_pass(indptr, indices, data, w_, b, y, sw, bounds)
        if m is None:
            m = float(K.max_abs(X.data)) if x_max is not None else 0.0  # no |X| temporary
    else:
        nll, g, w, m = K.binary_pass(X, Theta[0, :d], b, y, sw, x_max is not None)
    if x_max is not None:
        x_max.append(m)
    G = np.empty_like(Theta)
    G[0, :d] = g[:d] + alpha * Theta[0, :d]
    if fit_intercept:
        G[0, d] = g[d]
    return nll + _penalty(Theta, alpha, fit_intercept), G, w


def binary_hessian(X, s, alpha, fit_intercept):
    """∇²f = [X 1]ᵀ diag(s) [X 1] + α·diag(1, …, 1, 0), shape (d₁, d₁)."""
    d = X.shape[1]
    p = d + int(fit_intercept)
    H = np.empty((p, p), dtype=X.dtype)
    if sparse.issparse(X):
        H[:d, :d] = (X.T @ X.multiply(s[:, None]).tocsr()).toarray()
    else:
        Xs = X * np.sqrt(s)[:, None]
        H[:d, :d] = Xs.T @ Xs  # numpy dispatches AᵀA to the symmetric rank-k update
    if fit_intercept:
        H[:d, d] = H[d, :d] = X.T @ s
        H[d, d] = s.sum()
    H.flat[: d * (p + 1) : p + 1] += alpha
    return H


def binary_hessp(V, X, s, alpha, fit_intercept):
    """∇²f·V = X̃ᵀ(s ⊙ X̃v) + α[v_w, 0] for V of Θ's shape (1, d₁), without forming ∇²f.

    The pass runs in X's dtype (s given in it too); the result is float64."""
    d = X.shape[1]
    vb = float(V[0, d]) if fit_intercept else 0.0
    if sparse.issparse(X):  # in X's precision (float32 for CG's search directions)
        g = np.empty(d + 1)
        v = np.ascontiguousarray(V[0, :d], dtype=X.dtype)
        indptr, indices, data, bounds = SK.csr_arrays(X)
        g[:d], g[d] = SK.csr_weighted_gram_matvec(
            indptr, indices, data, v, vb, s, bounds, single=X.dtype == np.float32
        )
    else:  # in X's precision too: float32 sums for a float32 X
        v = np.ascontiguousarray(V[0, :d], dtype=X.dtype)
        g = K.binary_hessp_pass(X, v, X.dtype.type(vb), s).astype(np.float64)
    HV = np.empty(V.shape)
    HV[0, :d] = g[:d] + alpha * V[0, :d]
    if fit_intercept:
        HV[0, d] = g[d]
    return HV


def multinomial_loss_grad(Theta, X, codes, sw, alpha, fit_intercept):
    """f, ∇f and the probabilities P for integer labels ``codes`` ∈ {0, …, k−1}.

    Theta : (k, d₁); X : (n, d); codes, sw : (n,). Returns (float, (k, d₁), (n, k)).
    pᵢ = softmax(zᵢ) by log-sum-exp, so no score is ever exponentiated unshifted.
    """
    if not sparse.issparse(X):  # one fused pass over the rows
        d = X.shape[1]
        W = Theta[:, :d]
        W8, b8 = K.pad8(W, Theta[:, d] if fit_intercept else 0.0)
        nll, g, P = K.softmax_pass(X, W8, b8, len(Theta), codes, sw)
        G = np.empty_like(Theta)
        G[:, :d] = g[:, :d] + alpha * W
        if fit_intercept:
            G[:, d] = g[:, d]
        return nll + _penalty(Theta, alpha, fit_intercept), G, P
    Z = scores(Theta, X, fit_intercept)
    nll, P, R = K.softmax_terms(Z, codes, sw)
    G = _grad_from_residual(R, X, Theta, alpha, fit_intercept)
    return nll + _penalty(Theta, alpha, fit_intercept), G, P


def multinomial_hessp(V, X, P, sw, alpha, fit_intercept):
    """The Hessian-vector product ∇²f·V without forming ∇²f (V has Θ's shape (k, d₁)).

    With U = [X 1]Vᵀ, row i of the residual is sᵢ·(pᵢ ⊙ uᵢ − pᵢ(pᵢᵀuᵢ)), and ∇²f·V = Rᵀ[X 1].
    """
    if not sparse.issparse(X):  # one fused pass over the rows
        d = X.shape[1]
        W = V[:, :d]
        g = K.softmax_hessp_pass(X, *K.pad8(W, V[:, d] if fit_intercept else 0.0), P, sw)
        HV = np.empty_like(V)
        HV[:, :d] = g[:, :d] + alpha * W
        if fit_intercept:
            HV[:, d] = g[:, d]
        return HV
    U = K.softmax_hess_terms(scores(V, X, fit_intercept), P, sw)
    return _grad_from_residual(U, X, V, alpha, fit_intercept)


def multinomial_hessian(X, P, sw, alpha, fit_intercept, *, chunk=4096):
    """The (k·d₁ × k·d₁) Hessian, block (m, l) = X̃ᵀ diag(sᵢp_im(δ_ml − p_il)) X̃, X̃ = [X 1].

    Assembled as Σᵢ sᵢ(diag(pᵢ) − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ over row chunks: the rank-one part is one
    symmetric product AᵀA with rows √sᵢ·(pᵢ ⊗ x̃ᵢ), the diagonal part k products of size d₁.
    """
    n, d = X.shape
    k = P.shape[1]
    p = d + int(fit_intercept)
    if sparse.issparse(X):
        return _sparse_multinomial_hessian(X, P, sw, alpha, fit_intercept)
    H = np.zeros((k * p, k * p), dtype=X.dtype)
    D = np.zeros((p, k * p), dtype=X.dtype)
    for start in range(0, n, chunk):
        Xc = X[start : start + chunk]
        if fit_intercept:
            Xc = np.hstack([Xc, np.ones((len(Xc), 1), dtype=X.dtype)])
        root = np.sqrt(sw[start : start + chunk])[:, None]
        B = (P[start : start + chunk, :, None] * Xc[:, None, :]).reshape(len(Xc), k * p)
        B *= root
        D += Xc.T @ (B * root)
        H -= B.T @ B
    for m in range(k):
        H[m * p : (m + 1) * p, m * p : (m + 1) * p] += D[:, m * p : (m + 1) * p]
    W_idx = np.arange(k * p).reshape(k, p)[:, :d].ravel()
    H[W_idx, W_idx] += alpha
    return H


def _sparse_multinomial_hessian(X, P, sw, alpha, fit_intercept):
    """The softmax Hessian for a sparse X: block (m, l) = X̃ᵀ diag(sᵢp_im(δ_ml − p_il)) X̃,
    each a sparse product (the weights may be negative off the diagonal, so no square root)."""
    d = X.shape[1]
    k = P.shape[1]
    p = d + int(fit_intercept)
    H = np.zeros((k * p, k * p))
    for m in range(k):
        for j in range(m, k):
            w = sw * P[:, m] * ((m == j) - P[:, j])
            B = H[m * p : (m + 1) * p, j * p : (j + 1) * p]
            B[:d, :d] = (X.T @ X.multiply(w[:, None]).tocsr()).toarray()
            if fit_intercept:
                B[:d, d] = B[d, :d] = X.T @ w
                B[d, d] = w.sum()
            if j != m:
                H[j * p : (j + 1) * p, m * p : (m + 1) * p] = B.T
    W_idx = np.arange(k * p).reshape(k, p)[:, :d].ravel()
    H[W_idx, W_idx] += alpha
    return H


def intercept_jacobi(X, s_or_P, sw, alpha, fit_intercept, lift=0.0, moments=None):
    """An approximate inverse of ∇²f for CG: per score, its diagonal with the intercept exact.

    For one score with curvature weights wᵢ (``s_or_P`` the IRLS weights sᵢσᵢ(1 − σᵢ), sw
    unused; or P, with wᵢₘ = sᵢp_im(1 − p_im)) the Hessian's block is

        H = [XᵀWX + αI   c]      c = XᵀW1,  σ = Σwᵢ (+ ``lift``, the softmax's shared
            [cᵀ          σ],                intercept direction lifted by NNᵀ).

    Since XᵀWX = X_cᵀWX_c + ccᵀ/σ (X_c centered by the W-weighted means), replacing only the
    centered part by its diagonal A = diag(XᵀWX) − c²/σ + α keeps H's intercept row and the
    rank-one mean direction ccᵀ/σ exact:

        P = [A + ccᵀ/σ   c],   P⁻¹[r, ρ] = [x, (ρ − cᵀx)/σ]  with  x = A⁻¹(r − cρ/σ).
            [cᵀ          σ]

    P is positive definite (σ > 0, A > 0). On non-negative data (tf-idf) the mean direction is
    XᵀWX's outlying eigenvalue, which plain Jacobi leaves to CG. Without an intercept P is the
    diagonal. Returns R ↦ P⁻¹R for R of Θ's shape (k', d₁); the softmax's scores are treated
    independently (block Jacobi over the classes). Each score costs one pass over X, unless
    ``moments`` brings them (a sigmoid's (XᵀW1, diag XᵀWX), from ``binary_loss_grad``).
    """
    W = s_or_P[:, None] if s_or_P.ndim == 1 else sw[:, None] * s_or_P * (1.0 - s_or_P)
    k, d = W.shape[1], X.shape[1]
    C, Dg = np.empty((k, d)), np.empty((k, d))
    if moments is not None:  # (XᵀW1, diag XᵀWX) of the one score, already measured
        C[0], Dg[0] = moments
    elif sparse.issparse(X):  # one pass per score over the stored values, no copy of X
        indptr, indices, data, bounds = SK.csr_arrays(X)
        for m in range(k):
            col = np.ascontiguousarray(W[:, m])
            C[m], Dg[m] = SK.csr_weighted_column_moments(indptr, indices, data, col, d, bounds)
    else:
        C, Dg = W.T @ X, W.T @ (X * X)
    tiny = np.finfo(float).tiny
    if not fit_intercept:
        inv = 1.0 / np.maximum(Dg + alpha, tiny)
        return lambda R: R * inv
    sigma = np.maximum(W.sum(axis=0) + lift, tiny)[:, None]
    # Cauchy–Schwarz makes diag − c²/σ ≥ 0; rounding may not, so it is kept ≥ eps·diag
    A = np.maximum(Dg - C * C / sigma, np.finfo(float).eps * Dg) + alpha
    inv_A = 1.0 / np.maximum(A, tiny)

    def apply(R):
        rho = R[:, -1:]
        x = (R[:, :-1] - C * (rho / sigma)) * inv_A
        t = (rho - np.einsum("md,md->m", C, x)[:, None]) / sigma
        return np.hstack([x, t])

    return apply
