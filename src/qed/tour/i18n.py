"""The report's own words in English and in the notes' Korean.

The Korean edition uses the notes' terms where the notes have them (GLOSSARY.md: 구함,
동전 던지기, 산정결과, 엔트로피, 예측 / 실제, SVM 평면, 가파르면 느리게 완만한데 빠르게 …) and
the usual Korean textbook terms elsewhere; chapter titles, explanations and captions live in
the chapter modules (``TITLE_KO``, ``SECTION_KO``, ``ctx.t(en, ko)``).
"""

from __future__ import annotations

__all__ = ["ui_strings", "UI", "peer_ko", "quantity_ko"]

UI: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "qed tour — the lecture notes, computed",
        "chapters": "chapters",
        "figures": "figures",
        "interactive": "interactive figures",
        "certs_hold": "certificates hold",
        "values_agree": "values agree with their reference",
        "summary": "Summary",
        "chapter": "chapter",
        "status": "status",
        "agreeing": "values agreeing with reference",
        "certs_holding": "certificates holding",
        "seconds": "seconds",
        "the_notes": "The notes",
        "quantity": "quantity",
        "qed": "qed",
        "reference": "reference",
        "reference_from": "reference from",
        "rel_diff": "rel. difference",
        "certificate": "Certificate",
        "holds": "holds",
        "fails": "FAILS",
        "condition": "condition",
        "measured": "measured",
        "tolerance": "tolerance",
        "meaning": "meaning",
        "error_bound": "error bound (≤)",
        "ok": "ok",
        "pending": "pending",
        "error": "error",
        "move": "Move the controls: every frame was computed by qed when this page was written.",
        "noscript": "The interactive figures need JavaScript; the values above do not.",
    },
    "ko": {
        "page_title": "qed 투어 — 강의 노트를 계산하다",
        "chapters": "개 장",
        "figures": "개 그림",
        "interactive": "개 인터랙티브 그림",
        "certs_hold": "증명서 성립",
        "values_agree": "값이 기준값과 일치",
        "summary": "요약",
        "chapter": "장",
        "status": "상태",
        "agreeing": "기준값과 일치하는 값",
        "certs_holding": "성립하는 증명서",
        "seconds": "초",
        "the_notes": "노트",
        "quantity": "계산한 양",
        "qed": "qed",
        "reference": "기준값",
        "reference_from": "기준값 출처",
        "rel_diff": "상대 차이",
        "certificate": "최적성 증명서",
        "holds": "성립",
        "fails": "실패",
        "condition": "조건",
        "measured": "측정값",
        "tolerance": "허용오차",
        "meaning": "의미",
        "error_bound": "오차 상한 (≤)",
        "ok": "정상",
        "pending": "대기",
        "error": "오류",
        "move": "조절기를 움직여 보세요: 모든 프레임은 이 페이지를 만들 때 qed가 계산했습니다.",
        "noscript": "인터랙티브 그림에는 JavaScript가 필요합니다 (위의 값들은 필요 없습니다).",
    },
}


def ui_strings(lang: str) -> dict[str, str]:
    """The report's fixed words in ``lang`` ("en" or "ko")."""
    if lang not in UI:
        raise ValueError(f"lang must be one of {sorted(UI)}, got {lang!r}.")
    return UI[lang]


# the words of the "reference from" column that are not a library's name
_PEERS_KO = (
    ("the notes' identity", "노트의 항등식"),
    ("the notes' formula", "노트의 공식"),
    ("the notes", "노트"),
    ("closed form", "닫힌 형태"),
    ("chain rule", "연쇄 법칙"),
    ("identity", "항등식"),
    ("the dual", "쌍대 문제"),
    ("same architecture and optimizer", "같은 구조와 옵티마이저"),
    ("libsvm's stopping tolerance", "libsvm의 정지 허용오차"),
    ("on the primal", "원 문제에서"),
    ("not installed", "설치되지 않음"),
)


def peer_ko(peer: str) -> str:
    """The "reference from" entry in Korean: library names stay, the words around them go."""
    for en, ko in _PEERS_KO:
        peer = peer.replace(en, ko)
    return peer


# the "quantity" column of the chapters' comparisons, where it has words besides mathematics
_QUANTITIES_KO = {
    "coefficients β": "계수 β",
    "intercept b": "절편 b",
    "β from the QR solver": "QR 풀이의 β",
    "Gaussian log-likelihood at the MLE": "MLE에서의 가우시안 log-likelihood",
    "∇_β βᵀAβ = (A + Aᵀ)β (random 4×4 A)": "∇_β βᵀAβ = (A + Aᵀ)β (무작위 4×4 A)",
    "θ_MLE (7 heads, 3 tails)": "θ_MLE (산정결과 H 7 T 3)",
    "θ_MAP under Beta(1, 1)": "Beta(1, 1) prior에서 θ_MAP",
    "θ_MAP under Beta(2, 2)": "Beta(2, 2) prior에서 θ_MAP",
    "posterior under Beta(2, 2): (a, b)": "Beta(2, 2) prior의 posterior: (a, b)",
    "posterior density Beta(9, 5) on a grid": "격자 위의 posterior 밀도 Beta(9, 5)",
    "95% credible interval": "95% 신용구간",
    "P(next toss = heads) = a/(a + b)": "P(다음 던지기 = 앞면) = a/(a + b)",
    "θ_MLE on breast cancer labels": "유방암 레이블의 θ_MLE",
    "H(species) = log 3": "H(품종) = log 3",
    "H(petal bin)": "H(꽃잎 구간)",
    "D_KL(p ‖ uniform)": "D_KL(p ‖ 균등분포)",
    "Gaussian KL(setosa ‖ versicolor)": "가우시안 KL(setosa ‖ versicolor)",
    "PolynomialFeatures(3) of (bmi, bp), 442 × 10": "(bmi, bp)의 PolynomialFeatures(3), 442 × 10",
    "ridge intercept (unpenalised)": "ridge 절편 (벌점 없음)",
    "rbf dual coefficients α* = (K + λI)⁻¹y": "rbf 쌍대 계수 α* = (K + λI)⁻¹y",
    "rbf predictions K(x, X)α* on a grid": "격자 위의 rbf 예측 K(x, X)α*",
    "poly predictions": "poly kernel 예측",
    "linear kernel: K(x, X)α* = xᵀβ* (dual = primal)": "linear kernel: K(x, X)α* = xᵀβ* (쌍대 = 원 문제)",
    "breast cancer: w (C = 1, Newton/IRLS)": "유방암: w (C = 1, Newton/IRLS)",
    "breast cancer: P(y = 1 | x) for all 569": "유방암: 569개 전체의 P(y = 1 | x)",
    "iris softmax: class probabilities (150 × 3)": "iris softmax: 클래스 확률 (150 × 3)",
    "(w, b), hard margin on sepal length/width": "(w, b), 꽃받침 길이/너비의 hard margin",
    "soft-margin RBF: decision function (569)": "soft margin RBF: 결정 함수 (569)",
    "number of support vectors": "support vector 개수",
    "∂L/∂X = ∂L/∂W·Yᵀ (64 digits × 64 pixels)": "∂L/∂X = ∂L/∂W·Yᵀ (숫자 64개 × 픽셀 64개)",
    "2-layer ReLU net: cross-entropy loss": "2층 ReLU 네트워크: cross-entropy loss",
    "… and all 2410 parameter gradients": "… 와 파라미터 2410개 전체의 gradient",
    "gradcheck (tape vs central differences)": "gradcheck (테이프 대 중앙 차분)",
    "σ' from the tape = σ(1 − σ)": "테이프의 σ' = σ(1 − σ)",
    "all three derivatives on 401 points": "401개 점에서 세 도함수 모두",
    "test accuracy, Adam (different random init and batches)": "테스트 정확도, Adam (초기화와 batch의 난수는 다름)",
    "xavier, relu: mean factor per layer (E[h_L²]/S)^(1/L)": "xavier, relu: 층당 평균 배율 (E[h_L²]/S)^(1/L)",
    "he, relu: mean factor per layer (E[h_L²]/S)^(1/L)": "he, relu: 층당 평균 배율 (E[h_L²]/S)^(1/L)",
    "He normal: sample std of a 512 × 512 weight": "He 정규: 512 × 512 가중치의 표본 표준편차",
    "He uniform: max |w| (bound √3σ)": "He 균등: max |w| (경계 √3σ)",
    "step decay": "고정된 지점에서 decay",
    "training output, batch 1: per-feature mean": "학습 출력, batch 1: 특성별 평균",
    "training output, batch 1: per-feature variance": "학습 출력, batch 1: 특성별 분산",
    "running mean after 120 batches": "batch 120개 후의 running 평균",
    "running variance (unbiased batch variances)": "running 분산 (batch의 불편 분산)",
    "eval-mode output (50 × 6)": "평가 모드 출력 (50 × 6)",
    "diabetes, squared loss: β = 2λ_max(XᵀX)/n": "당뇨병, 제곱 loss: β = 2λ_max(XᵀX)/n",
    "… by power iteration": "… 거듭제곱법으로",
    "breast cancer, logistic loss: β = λ_max(XᵀX)/(4n)": "유방암, 로지스틱 loss: β = λ_max(XᵀX)/(4n)",
    "descent lemma holds at every step (η = 1, 1.9, 2.2 × 1/β)": "모든 단계에서 descent lemma 성립 (η = 1, 1.9, 2.2 × 1/β)",
    "SGD log-log slope of min_t E‖∇f(x_t)‖² against T": "T에 대한 SGD min_t E‖∇f(x_t)‖²의 log-log 기울기",
    "… of the mean over t": "… t에 대한 평균의 기울기",
    "qed.optim.Adam on Rosenbrock, 200 steps": "Rosenbrock 위의 qed.optim.Adam, 200 단계",
    "SGD, Nesterov momentum 0.9, 200 steps": "SGD, Nesterov momentum 0.9, 200 단계",
    "Adam, constant g: m_5 = (1 − β₁⁵)g": "Adam, g 상수: m_5 = (1 − β₁⁵)g",
    "… so every step moves each coordinate by α: x_5": "… 그래서 매 단계 각 좌표가 α씩 움직인다: x_5",
    "primal (XᵀX + λI)⁻¹Xᵀy = dual Xᵀ(XXᵀ + λI)⁻¹y": "원 문제 (XᵀX + λI)⁻¹Xᵀy = 쌍대 Xᵀ(XXᵀ + λI)⁻¹y",
    "σ'(z) = σ(1 − σ) at z = ±800, ±30, ±1, 0": "z = ±800, ±30, ±1, 0 에서 σ'(z) = σ(1 − σ)",
    "σ_He, σ_Xavier(fan-in) for D_in = 512": "D_in = 512 일 때 σ_He, σ_Xavier(fan-in)",
}


def quantity_ko(quantity: str) -> str:
    """A comparison's name in Korean where the table has one, else unchanged (mathematics)."""
    return _QUANTITIES_KO.get(quantity, quantity)
