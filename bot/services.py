"""The collaborators of the dialogue engine, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.places import PlaceIndex
from bot.strings import Strings
from content.library import ContentLibrary
from core.crypto import FieldCipher
from core.settings import Settings
from nlu.service import Classifier


@dataclass
class BotServices:
    settings: Settings
    db: Engine
    library: ContentLibrary
    classifier: Classifier
    cipher: FieldCipher
    strings: Strings
    places: PlaceIndex
