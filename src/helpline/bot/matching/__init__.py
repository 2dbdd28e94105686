"""Script matching: which service script a customer's message asks for, with a confidence, or none at all."""

from helpline.bot.matching.calibrated import CalibratedMatcher
from helpline.bot.matching.lexical import LexicalMatcher
from helpline.bot.matching.protocol import ScriptMatcher
from helpline.bot.matching.registry import default_matcher, knowledge_encoder, methods, semantic_available

__all__ = [
    "CalibratedMatcher",
    "LexicalMatcher",
    "ScriptMatcher",
    "default_matcher",
    "knowledge_encoder",
    "methods",
    "semantic_available",
]
