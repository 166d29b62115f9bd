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
        "notfall", "notfallnummer", "reagiert nicht mehr", "hilfe notfall",
        "notfal", "hilfe hilfe", "gefahr", "häusliche gewalt", "gewalt zu hause", "schlägt die kinder", "schlägt gerade", "schlägt meine", "schlägt sie", "hat mich geschlagen", "tötet mich", "tötet sich", "ich will sterben", "um zu sterben", "sich umbringen", "umgefallen", "wacht nicht auf", "brustschmerz*", "schmerzen in der brust", "schlaganfall", "starke blutung", "blutet sehr", "blutet viel", "blutet am kopf", "blut hört nicht auf", "vom fenster gefallen", "verschluckt", "putzmittel getrunken", "vergiftung", "verfolgt mich", "werde verfolgt", "bedrohen mich", "einbruch", "polizei rufen", "krampf*", "hiiilfe", "hilfee", "ertrinkt", "stromschlag", "allergischer schock", "kein puls",
        "notruf", "notarzt", "krankenwagen", "rettungswagen", "schlägt mich", "schlagen mich",
        "verprügelt mich", "bringt mich um", "will mich umbringen", "mich umbringen",
        "bringe mich um", "selbstmord*", "suizid*", "will nicht mehr leben", "atmet nicht",
        "bewusstlos", "blutet stark", "es brennt", "brennt", "feuer", "rauch", "herzinfarkt",
        "vergewaltig*", "überdosis", "lebensgefahr", "messer", "waffe", "pistole",
        "tut mir gewalt an", "kann nicht mehr atmen", "kann nicht atmen", "keine luft",
        "angegriffen", "überfallen", "seil", "aufhängen", "erhängen", "von der brücke",
        "pulsadern", "ritzt sich", "ritze mich", "tabletten geschluckt", "alle tabletten",
        "wehen", "fruchtblase", "geburt hat begonnen", "ist blau", "nicht ansprechbar",
        "bedroht mich", "in gefahr", "gegen meinen willen", "missbraucht", "sofort hilfe",
        "hilfe sofort", "schnell hilfe",
    ),
    "en": (
        "gunshot", "has a gun", "with a gun", "emergency number", "emergency doctor", "emergency call", "help emergency", "emergency please", "swallowed something", "swallowed pills", "swallowed a",
        "emergancy", "help help", "help immediately", "quick help", "help right now", "help me now", "beats the", "beat kids", "beat the kids", "hitting the kids", "hitting her", "he hit me", "will kill me", "kill himself", "kill herself", "domestic violence", "violence at home", "don't want to live", "dont want to live", "pills to die", "doesn't wake up", "not waking up", "chest pain", "pain in chest", "stroke", "heavy bleeding", "bleeding a lot", "bleeding from", "blood won't stop", "fell from the window", "poisoning", "poisoned", "drank cleaning", "following me", "being followed", "beat me", "robbery", "break-in", "break in", "call police", "seizure", "heeelp", "hlp plz", "drowning", "electric shock", "no pulse", "giving birth",
        "ambulance", "call the police", "beating me", "beats me", "hitting me", "hits me",
        "kill myself", "killing myself", "suicid*", "end my life", "want to die",
        "not breathing", "stopped breathing", "unconscious", "bleeding heavily",
        "heart attack", "overdose", "going to kill me", "wants to kill me",
        "threatening to kill", "raped", "rape", "on fire", "fire", "house is burning",
        "life threatening", "can't breathe", "cant breathe", "cannot breathe", "there is smoke",
        "full of smoke", "smoke everywhere", "knife", "armed", "attacked me",
        "attacked us", "was attacked", "rope", "hang myself", "jump off", "cut himself",
        "cut herself", "cut myself", "cutting myself", "wrists", "swallowed pills",
        "all my pills", "labour started", "labor started", "contractions", "water broke",
        "turned blue", "in danger", "threatening me", "sexually assaulted",
        "against my will", "help now", "urgent help",
    ),
    "ar": (
        "ساعدوني هلق", "ساعدوني بسرعه",
        "عم يضرب", "بيضرب", "يضرب الاطفال", "يضرب الولاد", "اقتل حالي", "بدو ينتحر", "يرمي حالو", "شربت حبوب", "وقع وما", "اغمى عليها", "اغمى عليه", "ما بيرد", "وجع بالصدر", "وجع قوي بصدري", "ألم بصدره", "عم ينزف", "الدم ما عم يوقف", "وقع من الشباك", "ينزف", "بلع دوا", "بلع بطاريه", "شربت كلور", "يختنق", "يحترق", "ريحه غاز", "لاحقني", "يلحقني", "يهددني", "يهددوني", "بدهم يكسروه", "تحرش", "رقم الشرطه", "عم تولد", "حادث سير", "انطعن", "طوارئ", "حاله طارئه", "الحئوني", "سعدوني", "مايتنفس", "عالجسر", "اعتداء جنسي", "قلبي رح يوقف", "sa3dooni", "sa3dounii", "el7a2ouni", "yedrobni", "yedrob", "bde mout", "ente7er", "ma 3am yetnafas", "7ari2", "la7a2ni", "yla7e2ni", "nazif", "bala3", "ye5ton2", "waja3 2awi b sadri",
        "يضربني", "بيضربني", "عم يضربني", "ضربني", "اسعاف", "الاسعاف", "انتحر", "انتحار",
        "اقتل نفسي", "بدي موت", "ما عم يتنفس", "لا يتنفس", "مش عم يتنفس", "ما يتنفس",
        "نزيف", "حريق", "يهددني بالقتل", "بده يقتلني", "يريد قتلي", "يريد ان يقتلني",
        "فاقد الوعي", "مغمى عليه", "اغتصب*", "جرعه زائده", "الطوارئ", "ما بقدر اتنفس",
        "مو قادر اتنفس", "ما فيني اتنفس", "لا استطيع التنفس", "اختنق*", "دخان", "نار",
        "سلاح", "مسدس", "سكين", "هاجموني", "هجموا علي", "اعتدى", "اعتداء", "غصب عني",
        "حبل", "اشنق", "انط من", "جرح حاله", "جرح نفسه", "قطع ايده", "الحبوب بايدي",
        "بلعت حبوب", "بلعت كل", "الولاده بلشت", "بلشت الولاده", "صار ازرق", "بخطر",
        "في خطر", "b5atar", "bi5atar", "عاجل عاجل", "ساعدوني بسرعه", "النجده", "الحقوني",
        "ما بدي عيش", "ما عاد بدي عيش", "ما عاد بدي اكون", "intihar", "isaaf", "is3af",
    ),
    "fa": (
        "تصادف کردیم", "زایمان کرده و خون",
        "کمک کمک", "همین الان کمک", "بچه ها رو میزنه", "کتک میزنه", "منو میزنه", "زنده باشم", "به زندگیم پایان", "قرص زیاد خوردم", "درد شدید قفسه سینه", "خون بند نمیاد", "بیهوشه", "از پنجره افتاد", "قرص خورده", "مایع ظرفشویی خورده", "قورت داده", "بوی گاز", "دنبالمه", "دنبالم کرده", "تهدیدم کردن", "میکشنم", "حمله جنسی", "پلیس لازم", "شماره پلیس", "تشنج", "زنشو میزنه", "رگشو زده", "کمکککک", "فوری فوری", "خطر", "داره میمیره", "سکته", "گلوش باد کرده", "از پل بپره", "لت میکنه", "در رو میشکنه", "خفه شده", "ایست قلبی", "برق گرفتش", "komak foori", "komak komak", "mizane komak", "khodamo bokosham", "zende basham", "nafas nemikeshe", "ghafase sine", "khoonrizi", "bihooshe", "ghors khorde", "atish gerefte", "donbalame", "tahdidam", "polis lazem", "notfall", "hilfe schnell", "آمبلانس",
        "منو میزنه", "مرا میزند", "مرا کتک", "کتکم میزنه", "کتک میزند", "کتکم میزند",
        "خودکشی", "خودمو بکشم", "خودم را بکشم", "آمبولانس", "اورژانس", "نفس نمیکشه",
        "نفس نمی کشد", "نفس نمیکشد", "بیهوش", "خونریزی", "آتش سوزی", "منو بکشه",
        "مرا بکشد", "تجاوز", "میخوام بمیرم", "میخواهم بمیرم", "نمیتونم نفس بکشم",
        "نفسم بالا نمیاد", "دود", "آتیش", "آتش", "اسلحه", "تفنگ", "چاقو", "حمله کردن",
        "حمله کرد", "طناب", "بپرم", "رگمو", "رگ دستم", "کیسه آب", "کبود شده",
        "در خطر", "کمک فوری", "فوری کمک", "نجاتم بدید", "نجاتم بدین", "قرص خوردم",
        "همه قرصا", "tajavoz", "khodkoshi", "ambulans", "orzhans", "urgence",
    ),
    "tr": (
        "ölüyor yardım", "yardım edin hemen", "yardım edin çabuk", "yardim edin cabuk", "biri yaralı",
        "hemen yardım", "yaşamak istemiyorum", "yasamak istemiyorum", "hayatıma son", "hap içtim", "göğsümde şiddetli", "şiddetli ağrı", "kanamam", "kan durmuyor", "baygın", "pencereden düştü", "ilaç yuttu", "hap yuttu", "çamaşır suyu içti", "ev yanıyor", "yanıyor", "gaz kokuyor", "takip ediyor", "peşime", "pesimde", "tehdit ettiler", "cinsel saldırı*", "hemen polis", "polisin numarası", "doğuruyor", "kriz geçiriyor", "bileklerini kesti", "kaza yaptık", "yardımmm", "acil acil", "tehlike", "felç", "boğazı şişti", "öldüreceğini", "imdaat", "vuruyor", "nefes yok", "kan kaybediyor", "boğuluyor",
        "ambulans", "acil durum", "acil yardım", "beni dövüyor", "dövüyor", "beni dövdü",
        "intihar*", "kendimi öldür*", "nefes almıyor", "bilinci yok", "bayıldı",
        "kanıyor", "yangın", "beni öldürecek", "beni öldürmek", "tecavüz*",
        "ölmek istiyorum", "nefes alamıyor*", "duman", "silah*", "bıçak*", "saldırdı*",
        "saldırı", "kendimi asacağım", "köprüden atla*", "bileklerimi", "kendini kesti",
        "hapları içtim", "doğum başladı", "doğum sancı*", "morardı", "kurtarın", "imdat",
    ),
    "ru": (
        "помогите срочно", "помогите пожалуйста срочно", "вызовите полицию", "вызвать полицию", "ножом", "с ножом",
        "бьет детей", "бьет жену", "избил", "убьет меня", "убьёт меня", "жить не хочу", "не хочу жить", "наглотался таблеток", "упал и не", "не приходит в себя", "боль в груди", "инсульт", "сильное кровотечение", "кровь не останавливается", "выпал из окна", "проглотил*", "отравлени*", "преследует", "угрожают", "ломятся", "номер полиции", "рожает", "судорог*", "не реагирует", "авария", "умирает", "задыхается", "тонет", "током ударило", "pomogite", "skoraja", "ne dyshit", "ubivaet",
        "скорая", "скорую", "бьет меня", "меня бьет", "избивает", "убить себя",
        "покончить с собой", "суицид*", "самоубийств*", "не дышит", "без сознания",
        "кровотечение", "пожар", "хочет меня убить", "угрожает убить", "изнасил*",
        "передозировк*", "хочу умереть", "не могу дышать", "задыхаюсь", "дым", "горит",
        "оружие", "пистолет", "ножом", "напали", "нападение", "веревк*",
        "повеситься", "прыгнуть", "на мосту", "порезал себе", "порезала себе", "вены",
        "таблетки выпил*", "наглотал*", "роды начались", "схватки", "воды отошли",
        "посинел*", "в опасности", "спасите", "помогите срочно", "плохо с сердцем",
        "умираю", "spasite", "skoruyu", "skoraya",
    ),
    "uk": (
        "допоможіть терміново", "викличте поліцію", "викликати поліцію", "швидку допомогу", "викликати швидку", "викличте швидку",
        "б'є дітей", "б'є дружину", "побив", "вб'є мене", "не хочу жити", "жити не хочу", "наковтав*", "впав і не", "не приходить до тями", "біль у грудях", "інсульт", "сильна кровотеча", "кров не зупиняється", "випав з вікна", "проковтну*", "отруєнн*", "переслідує", "погрожують", "ламаються", "номер поліції", "народжує", "судом*", "не реагує", "аварія", "помирає", "задихається", "тоне", "струмом вдарило", "dopomozhit", "ne dykhaie", "shvydka",
        "швидка допомога", "б'є мене", "мене б'є", "вбити себе",
        "покінчити з собою", "суїцид*", "самогубств*", "не дихає", "без свідомості",
        "кровотеча", "пожежа", "хоче мене вбити", "погрожує вбити", "зґвалту*",
        "передозуванн*", "хочу померти", "не можу дихати", "задихаюсь", "дим", "горить",
        "зброя", "пістолет", "ножем", "з ножем", "напали", "напад", "мотузк*",
        "повіситися", "стрибнути", "на мосту", "порізав собі", "порізала собі", "вени",
        "пологи почалися", "перейми", "відійшли води", "посинів", "посиніла",
        "в небезпеці", "рятуйте", "погано з серцем", "помираю", "rjatujte", "ryatuyte",
        "shvydku",
    ),
}

# 112 / 110 standing alone: not part of a date, time, amount or longer number.
_NUMBER = re.compile(
    r"(?<![\d.,:/-])11[02](?![\d.,:/]|\s*(?:€|euro\b|eur\b|uhr\b|h\b|qm\b|m2\b|km\b|%))",
    re.IGNORECASE,
)


def _compile(phrase: str) -> str:
    words = _prepare(phrase.replace("*", " STAR ")).split()
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
        return self._phrases.search(_prepare(text)) is not None


def _prepare(text: str) -> str:
    """Normalised text; Persian half-spaces are dropped so "نمی‌تونم" reads as "نمیتونم"."""
    return normalise_text(text.replace("\u200c", ""))


_ASCII_DIGITS = {ord(c): str(i % 10) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")}
