"""The report's own words in English and in the notes' Korean.

The Korean edition uses the notes' terms where the notes have them (GLOSSARY.md: 구함,
동전 던지기, 산정결과, 엔트로피, 예측 / 실제, SVM 평면, 가파르면 느리게 완만한데 빠르게 …) and
the usual Korean textbook terms elsewhere; chapter titles, explanations and captions live in
the chapter modules (``TITLE_KO``, ``SECTION_KO``, ``ctx.t(en, ko)``).
"""

from __future__ import annotations

__all__ = ["ui_strings", "UI", "peer_ko"]

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
