"""Words with accents, and essays written in a language other than English.

An English learner who writes "José" or "café" was told of misspellings that are not in the
essay ("caf", "ade"): the words were cut at the accent. An essay written in Spanish was told it
did not address the prompt, with 25 "misspelled" words listed. The paragraphs below are written
for these tests (no dataset text); all argue the Face-on-Mars prompt of the test course.
"""
from __future__ import annotations

import csv
import unicodedata

import pytest

from lti_app.coursework.essay_text import word_count
from worker.feedback.compose import NOT_ENGLISH_TEXT, OFF_TOPIC_TEXT, compose_feedback
from worker.feedback.language import other_language
from worker.feedback.spelling import misspelled, written_forms
from worker.feedback.textstats import measure, words

TRAIT_SCORES = {"evidence": 2, "organization": 2, "conventions": 2, "voice": 2}

FOREIGN = {
    "spanish": (
        "La cara en Marte fue hecha por el viento y el tiempo, no por extraterrestres. Las fotos "
        "nuevas de la NASA muestran que es solamente una montaña, una meseta como las que tenemos en "
        "el oeste de los Estados Unidos. Yo creo que los científicos tienen razón porque ellos "
        "estudiaron las imágenes con mucho cuidado y explicaron por qué la sombra parecía una cara."),
    # typed on an English keyboard: no accents to give it away
    "spanish without accents": (
        "Yo pienso que la cara en Marte es una montana natural y no un monumento de extraterrestres. "
        "Las fotos de la NASA son muy claras y los cientificos explicaron que la luz y las sombras "
        "hacen una ilusion, entonces no hay ninguna evidencia de vida en ese planeta."),
    "french": (
        "Le visage sur Mars n'est pas une construction des extraterrestres. Les nouvelles photos "
        "prises par la NASA montrent clairement que c'est une colline naturelle, formée par le vent "
        "et l'érosion pendant des millions d'années. À mon avis, les gens voient des visages partout "
        "parce que notre cerveau aime trouver des formes familières dans les ombres."),
    "portuguese": (
        "O rosto em Marte não foi feito por alienígenas. As fotografias novas da NASA mostram que é "
        "apenas uma montanha natural, parecida com as mesetas que existem no nosso planeta. Eu acho "
        "que as pessoas gostam de histórias misteriosas, mas os cientistas explicaram muito bem que a "
        "luz e as sombras criaram a ilusão de olhos e de uma boca."),
    "german": (
        "Das Gesicht auf dem Mars wurde nicht von Außerirdischen gebaut. Die neuen Bilder der NASA "
        "zeigen deutlich, dass es nur ein natürlicher Berg ist, den der Wind über viele Jahre geformt "
        "hat. Ich glaube, dass die Menschen gern Gesichter in Wolken und Felsen sehen, weil unser "
        "Gehirn immer nach bekannten Mustern sucht."),
    "italian": (
        "Il volto su Marte non è stato costruito dagli alieni. Le nuove fotografie della NASA mostrano "
        "che si tratta soltanto di una collina naturale, modellata dal vento nel corso di molti secoli. "
        "Secondo me le persone vedono facce dappertutto perché il nostro cervello cerca sempre forme "
        "conosciute nelle ombre e nella luce."),
}
MIXED = {
    "a Spanish saying": (
        "My grandmother always says \"ver para creer\", which means seeing is believing, and that is "
        "why I think the Face on Mars is just a natural landform. The first photos from the Viking "
        "spacecraft were blurry, so the shadows looked like eyes, a nose and a mouth. When NASA took "
        "new pictures with the Mars Global Surveyor, the camera was much better and the face turned "
        "out to be a mesa, like the buttes we have in the American West. Scientists explained that "
        "the light and the low resolution fooled people into seeing a face."),
    "some Spanish words": (
        "In my pueblo the old people like to tell cuentos about things in the sky, so I understand "
        "why people thought aliens made the Face on Mars. But the article shows that the Face is a "
        "natural landform, a mesa or butte. The Viking photos had low resolution, and in 1998 and 2001 "
        "the Mars Global Surveyor took sharper photos that show no eyes or mouth, only rocks and "
        "shadows. My abuela would say the evidence is claro: it is just a hill on Mars."),
}


def test_accented_words_are_not_cut_into_fake_misspellings():
    assert misspelled("café, naïve, façade, piñata") == []
    assert misspelled("José went to the café with his naïve friend Zoë.") == []
    decomposed = unicodedata.normalize("NFD", "The café had a piñata and a façade.")
    assert misspelled(decomposed) == []
    # a real slip beside them is still found, spelt as written
    assert misspelled("The café was beautful and the piñata was fun.") == ["beautful"]


def test_accented_words_are_whole_words_in_the_counts():
    text = "José's café is naïve. Zoë liked the façade."
    assert words(text) == ["José's", "café", "is", "naïve", "Zoë", "liked", "the", "façade"]
    stats = measure(text)
    # the same number the hand-in page shows (no numbers or hyphens here)
    assert stats.n_words == word_count(text) == 8
    assert stats.sentence_words == [4, 4]
    assert words(unicodedata.normalize("NFD", "café")) == [unicodedata.normalize("NFD", "café")]
    slips = measure("José and i went to the café café. Zoë was naïve and i was too.")
    assert slips.doubled_words == ["café café"] and slips.lower_i == 2
    assert measure(unicodedata.normalize("NFD", "Zoë was naïve.")).lower_i == 0


def test_an_accented_name_is_quoted_as_the_essays_write_it():
    texts = ["We flew to Bogotá in May, and Bogotá was cold.", "My aunt lives in Bogotá."]
    assert written_forms(["bogotá"], texts) == {"bogotá": "Bogotá"}


@pytest.mark.parametrize("language", sorted(FOREIGN))
def test_an_essay_in_another_latin_script_language_gets_the_not_english_line(
        language, course, trait_assignment):
    fb = compose_feedback(FOREIGN[language], 3, TRAIT_SCORES, trait_assignment, course, generator=False)
    assert fb.kinds() == ["not_english"] and fb.text == NOT_ENGLISH_TEXT
    assert OFF_TOPIC_TEXT not in fb.text and "misspelled" not in fb.text
    assert "another language" in NOT_ENGLISH_TEXT   # says what it is, in any alphabet


@pytest.mark.parametrize("kind", sorted(MIXED))
def test_an_english_essay_with_spanish_in_it_gets_ordinary_feedback(kind, course, trait_assignment):
    fb = compose_feedback(MIXED[kind], 3, TRAIT_SCORES, trait_assignment, course, generator=False)
    assert "not_english" not in fb.kinds() and "off_topic" not in fb.kinds()
    assert "teacher" in fb.kinds()


def test_keyboard_mash_is_no_language():
    """Mash has too few vowels for a language: the off-topic check answers it instead."""
    assert other_language(words("asdf jkl qwer uiop zxcv " * 30)) is None
    assert other_language(words("qwertyuiop asdfghjkl zxcvbnm " * 5)) is None


def test_a_few_words_decide_nothing():
    assert other_language(words("No sé qué escribir.")) is None


def _essays(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["full_text"] for row in csv.DictReader(fh)]


def test_no_real_english_essay_is_taken_for_another_language(shared_data):
    """Every PERSUADE training essay and every ELLIPSE essay (English learners, grades 8-12)."""
    files = sorted(shared_data.glob("persuade/*/train.csv")) + [shared_data / "ellipse" / "ellipse.csv"]
    essays = [text for f in files for text in _essays(f)]
    assert len(essays) > 12000
    flagged = [text[:80] for text in essays if other_language(words(text))]
    assert flagged == []
