"""The fields of a Hugging Face config.json, read with typed getters that name the key at fault.

No I/O: the caller parses the file. Every problem raises ``ConfigError`` naming the field
(``num_hidden_layers: missing``), never a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.catalog.hf_families import FAMILIES


class ConfigError(ValueError):
    """A config the engine cannot size; ``field`` is the config key at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ConfigFields:
    """The config's fields with typed getters; a nested text_config is read first."""

    def __init__(self, values: Mapping[str, Any], prefix: str, model_type: str) -> None:
        self.values = values
        self.prefix = prefix  # "text_config." when the fields come from the nested text model
        self.model_type = model_type

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> ConfigFields:
        text = raw.get("text_config")
        if isinstance(text, Mapping):
            # Multimodal checkpoints (Gemma 3, Llama 4, Qwen3.5) keep the language model's shapes
            # in text_config; a few keys (tie_word_embeddings, dtype, quantization) sit on top.
            outer = {k: raw[k] for k in _OUTER_KEYS if k in raw}
            values: Mapping[str, Any] = {**outer, **text}
            prefix = "text_config."
            model_type = text.get("model_type", raw.get("model_type"))
        else:
            values, prefix, model_type = raw, "", raw.get("model_type")
        if model_type is None:
            raise ConfigError("model_type", "missing")
        if not isinstance(model_type, str) or model_type not in FAMILIES:
            known = ", ".join(sorted(FAMILIES))
            raise ConfigError(
                f"{prefix}model_type", f"unknown family {model_type!r} (known: {known})"
            )
        defaults = dict(FAMILIES[model_type].defaults)
        return cls({**defaults, **values}, prefix, model_type)

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.prefix}{key}", message)

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def positive(self, key: str, default: int | None = None) -> int:
        value = self.values.get(key)
        if value is None:
            if default is None:
                raise self.error(key, "missing")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(key, f"expected a positive whole number, not {value!r}")
        return value

    def count(self, key: str, default: int) -> int:
        """A whole number ≥ 0 (0 allowed: no shared experts, no leading dense layers)."""
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(key, f"expected a whole number ≥ 0, not {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, not {value!r}")
        return value

    def flag(self, key: str) -> bool:
        return self.boolean(key, False)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) and value else None

    def layer_types(self, layers: int) -> list[str] | None:
        value = self.values.get("layer_types")
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("layer_types", "expected a list of layer type names")
        if len(value) != layers:
            raise self.error(
                "layer_types", f"lists {len(value)} layers, num_hidden_layers is {layers}"
            )
        return value


_OUTER_KEYS = (
    "tie_word_embeddings",
    "torch_dtype",
    "dtype",
    "quantization_config",
    "_name_or_path",
)
