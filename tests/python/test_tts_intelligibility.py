"""Intelligibility of Duet's Piper voice: Duet speaks 32 varied sentences (numbers, dates, times,
money, questions, names, short and long) with `duet say --voice piper` and Duet's own Whisper
(`duet transcribe`, the store's default whisper-tiny.en) writes them down; the word error rate
(jiwer) must be at most 10%.

Both sides go through the same normalisation before scoring: lower case, no punctuation, numbers,
ordinals, money, percentages and times spelled out by one function, and a few spellings that
Whisper and a reference may write differently ("Mr." / "mister", "OK" / "okay") mapped to one.
"""
import json
import re

import pytest

from conftest import MODELS, run_duet

jiwer = pytest.importorskip("jiwer")

VOICE = MODELS / "piper-en_US-joe-medium" / "en_US-joe-medium.gguf"
WHISPER = MODELS / "whisper-tiny.en" / "whisper-tiny.en.gguf"

SENTENCES = [
    "Hello.",
    "Thank you very much.",
    "What time is it?",
    "The meeting starts at 3:30 this afternoon.",
    "I was born on March 5th, 1988.",
    "The package weighs 12 pounds and costs $45.",
    "About 75% of the students passed the exam.",
    "Can you call Sarah and tell her I will be late?",
    "My phone number ends in 4 2 7 1.",
    "We drove 250 miles to visit my grandmother in Boston.",
    "Is the library open on Sunday mornings?",
    "Doctor Smith will see you in 10 minutes.",
    "The population of the city is about 2,000,000 people.",
    "Please set an alarm for 7 tomorrow morning.",
    "She finished the race in second place.",
    "Where did you put the car keys?",
    "John and Mary got married in June 2015.",
    "The temperature dropped to 5 degrees overnight.",
    "Turn left at the 2nd traffic light, then go straight for a mile.",
    "Our flight leaves on Friday at 9:15.",
    "How many apples are left in the basket?",
    "The museum was built in 1902 and renovated last year.",
    "I would like 2 coffees and a glass of orange juice, please.",
    "Michael plays the piano every evening after dinner.",
    "The train to London was delayed by 20 minutes this morning, so everyone arrived late "
    "to the conference and missed the opening talk.",
    "Do you prefer summer or winter?",
    "The report is due on the 21st of October.",
    "Emma bought 3 books, 2 pens and a notebook for school.",
    "Good night, and sleep well.",
    "Why is the sky blue during the day?",
    "The company hired 140 new employees in 2023.",
    "Please remember to water the plants while I am away on vacation next week.",
]

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
        "nine": "ninth", "twelve": "twelfth"}
_SAME = {"mister": "mr", "doctor": "dr", "okay": "ok", "o": "oh"}


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    for size, name in ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise ValueError(n)


def year_or_number_words(digits: str) -> str:
    """A bare four-digit number 1100..2099 reads as a year; anything else as a cardinal."""
    n = int(digits)
    if len(digits) == 4 and 1100 <= n <= 2099 and not 2000 <= n <= 2009:
        hi, lo = divmod(n, 100)
        return number_words(hi) + (" hundred" if lo == 0 else
                                   " oh " + _ONES[lo] if lo < 10 else " " + number_words(lo))
    return number_words(n)


def ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORD:
        words[-1] = _ORD[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def normalize(text: str) -> str:
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"\$(\d+)", r"\1 dollars", t)
    t = t.replace("%", " percent")
    t = re.sub(r"\b(\d{1,2}):00\b", r"\1", t)
    t = re.sub(r"\b(\d{1,2}):(\d{2})\b", lambda m: f"{m.group(1)} {m.group(2)}", t)
    t = re.sub(r"\b([ap])\.?m\.?(?=\W|$)", r"\1m", t)
    t = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1))), t)
    t = re.sub(r"\d+", lambda m: year_or_number_words(m.group(0)), t)
    t = t.replace("'", "")
    t = re.sub(r"[^a-z ]+", " ", t)
    return " ".join(_SAME.get(w, w) for w in t.split())


def test_normalize_spells_numbers_the_same_way_on_both_sides():
    assert normalize("It costs $45, about 75%!") == "it costs forty five dollars about seventy five percent"
    assert normalize("March 5th, 1988 at 3:30 P.M.") == "march fifth nineteen eighty eight at three thirty pm"
    assert normalize("2,000,000 people in 2015") == "two million people in twenty fifteen"
    assert normalize("Mr. Smith, okay?") == normalize("Mister Smith, OK.") == "mr smith ok"


@pytest.mark.slow
def test_whisper_understands_the_piper_voice(duet_bin, tmp_path):
    for p in (VOICE, WHISPER):
        if not p.exists():
            pytest.skip(f"{p} is missing (duet models pull)")
    assert len(SENTENCES) >= 30
    hyps = []
    for i, s in enumerate(SENTENCES):
        wav = tmp_path / f"{i}.wav"
        run_duet(duet_bin, "say", s, "--voice", "piper", "--rate", "16000", "-o", wav)
        out = run_duet(duet_bin, "transcribe", wav, "--json", "--threads", "2")
        hyps.append(json.loads(out.stdout)["text"])
    refs = [normalize(s) for s in SENTENCES]
    norm = [normalize(h) for h in hyps]
    wer = jiwer.wer(refs, norm)
    misses = [(r, h) for r, h in zip(refs, norm) if r != h]
    print(f"\nPiper voice -> whisper-tiny.en WER on {len(SENTENCES)} sentences: {wer:.4f}")
    for r, h in misses:
        print(f"  ref: {r}\n  hyp: {h}")
    assert wer <= 0.10, misses
