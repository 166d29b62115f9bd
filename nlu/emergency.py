"""Safety net for acute danger: keyword rules per language that override the classifier.

A false alarm costs a newcomer one extra message; a missed emergency can cost a life, so
these rules fire on any message that names an emergency number or acute danger.
"""

from __future__ import annotations

import re

from nlu.normalisation import normalise_text

# Phrases are written naturally and normalised like messages; "*" allows any word ending.
PHRASES: dict[str, tuple[str, ...]] = {
    "de": (
        "notruf", "notarzt", "krankenwagen", "rettungswagen", "schlägt mich", "schlagen mich",
        "verprügelt mich", "bringt mich um", "will mich umbringen", "mich umbringen",
        "bringe mich um", "selbstmord*", "suizid*", "will nicht mehr leben", "atmet nicht",
        "bewusstlos", "blutet stark", "es brennt", "herzinfarkt", "vergewaltig*",
        "überdosis", "lebensgefahr", "mit dem messer", "tut mir gewalt an",
    ),
    "en": (
        "ambulance", "call the police", "beating me", "beats me", "hitting me", "hits me",
        "kill myself", "killing myself", "suicid*", "end my life", "want to die",
        "not breathing", "stopped breathing", "unconscious", "bleeding heavily",
        "heart attack", "overdose", "going to kill me", "wants to kill me",
        "threatening to kill", "raped", "on fire", "house is burning", "life threatening",
    ),
    "ar": (
        "يضربني", "بيضربني", "عم يضربني", "ضربني", "اسعاف", "الاسعاف", "انتحر", "انتحار",
        "اقتل نفسي", "بدي موت", "ما عم يتنفس", "لا يتنفس", "مش عم يتنفس", "ما يتنفس",
        "نزيف", "حريق", "يهددني بالقتل", "بده يقتلني", "يريد قتلي", "يريد ان يقتلني",
        "فاقد الوعي", "مغمى عليه", "اغتصب*", "جرعه زائده", "الطوارئ",
    ),
    "fa": (
        "منو میزنه", "مرا میزند", "مرا کتک", "کتکم میزنه", "کتک میزند", "کتکم میزند",
        "خودکشی", "خودمو بکشم", "خودم را بکشم", "آمبولانس", "اورژانس", "نفس نمیکشه",
        "نفس نمی کشد", "نفس نمیکشد", "بیهوش", "خونریزی", "آتش سوزی", "منو بکشه",
        "مرا بکشد", "تجاوز کرد", "میخوام بمیرم", "میخواهم بمیرم",
    ),
    "tr": (
        "ambulans", "acil durum", "acil yardım", "beni dövüyor", "dövüyor", "beni dövdü",
        "intihar*", "kendimi öldür*", "nefes almıyor", "bilinci yok", "bayıldı",
        "kanıyor", "yangın var", "beni öldürecek", "beni öldürmek", "tecavüz*",
        "ölmek istiyorum",
    ),
    "ru": (
        "скорая", "скорую", "бьет меня", "меня бьет", "избивает", "убить себя",
        "покончить с собой", "суицид*", "самоубийств*", "не дышит", "без сознания",
        "кровотечение", "пожар", "хочет меня убить", "угрожает убить", "изнасил*",
        "передозировк*", "хочу умереть",
    ),
    "uk": (
        "швидку", "швидка допомога", "швидкої", "б'є мене", "мене б'є", "бʼє мене",
        "вбити себе", "покінчити з собою", "суїцид*", "самогубств*", "не дихає",
        "без свідомості", "кровотеча", "пожежа", "хоче мене вбити", "погрожує вбити",
        "зґвалту*", "передозуванн*", "хочу померти",
    ),
}

# 112 / 110 standing alone: not part of a date, time, amount or longer number.
_NUMBER = re.compile(
    r"(?<![\d.,:/-])11[02](?![\d.,:/]|\s*(?:€|euro\b|eur\b|uhr\b|h\b|qm\b|m2\b|km\b|%))",
    re.IGNORECASE,
)


def _compile(phrase: str) -> str:
    words = normalise_text(phrase.replace("*", " STAR ")).split()
    parts: list[str] = []
    for word in words:
        if word == "star":
            parts[-1] += r"\w*"
        else:
            parts.append(re.escape(word))
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"


class SafetyNet:
    """Compiled emergency rules of all languages (a message may mix languages)."""

    def __init__(self) -> None:
        patterns = [_compile(p) for phrases in PHRASES.values() for p in phrases]
        self._phrases = re.compile("|".join(patterns))

    def is_emergency(self, text: str) -> bool:
        if _NUMBER.search(text.translate(_ASCII_DIGITS)):
            return True
        return self._phrases.search(normalise_text(text)) is not None


_ASCII_DIGITS = {ord(c): str(i % 10) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")}
