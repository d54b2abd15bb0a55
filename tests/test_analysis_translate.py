"""Apertium: the installed pairs, one text and many per call; a missing command or pair is a clear error."""

from __future__ import annotations

import pytest

from dds_pod.analysis import translate
from dds_pod.analysis.translate import TranslationError, mode, modes, pairs, translate_many

needs_ca_es = pytest.mark.skipif(mode("ca", "es") is None, reason="Apertium's Catalan-Spanish pair is not installed")
ABSENT = "dds-pod-no-such-translator"


def test_an_absent_command_has_no_pairs():
    assert modes(ABSENT) == frozenset()
    assert mode("ca", "es", ABSENT) is None
    assert pairs(ABSENT) == frozenset()
    with pytest.raises(TranslationError, match="no Apertium pair from ca to es"):
        translate.translate("El llibre", "ca", "es", ABSENT)


def test_an_unknown_pair_is_refused():
    with pytest.raises(TranslationError, match="from xx to es"):
        translate_many(["text"], "xx", "es")


@needs_ca_es
def test_catalan_to_spanish():
    assert ("ca", "es") in pairs()
    assert mode("ca", "es") == "cat-spa"
    assert "libro" in translate.translate("El llibre de la ciutat", "ca", "es").lower()


@needs_ca_es
def test_many_texts_in_one_call_keep_their_order():
    texts = ["El llibre de la ciutat.", "", "Les bicicletes del barri\nsón perilloses.",
             f"Un text amb el separador {translate.SEPARATOR} al mig.", "Carrer"]
    found = translate_many(texts, "ca", "es")
    assert len(found) == len(texts)
    assert "libro" in found[0] and found[1] == "" and "bicicletas" in found[2] and "barrio" in found[2]
    assert "separador" in found[3] and translate.SEPARATOR not in found[3]
    assert found[4].lower() == "calle"


@needs_ca_es
def test_batches_are_bounded(monkeypatch):
    monkeypatch.setattr(translate, "MAX_BATCH_CHARS", 40)
    found = translate_many(["El llibre de la ciutat.", "Les bicicletes del barri.", "El carrer."], "ca", "es")
    assert [("libro" in found[0]), ("bicicletas" in found[1]), ("calle" in found[2])] == [True, True, True]


@needs_ca_es
def test_a_long_text_is_cut():
    found = translate.translate("La bicicleta del barri. " * 5_000, "ca", "es")
    assert "bicicleta" in found and len(found) < translate.MAX_CHARS * 1.5


@needs_ca_es
def test_a_timeout_is_a_translation_error(monkeypatch):
    monkeypatch.setattr(translate, "TIMEOUT", 0.001)
    with pytest.raises(TranslationError, match="longer than"):
        translate.translate("El llibre de la ciutat", "ca", "es")
