"""Reading the assistant's YAML data files into their models, with errors that name the file."""

from __future__ import annotations

from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from imajin.assistant.errors import AssistantConfigError
from imajin.llm.structured import describe_validation_error

__all__ = ["parse_data_file"]

M = TypeVar("M", bound=BaseModel)


def parse_data_file(text: str, model: type[M], *, what: str) -> M:
    """Validate a YAML document into ``model``.

    Args:
        text: The file's content.
        model: What it must be.
        what: Names the file in errors ("Pipeline file /srv/pipelines/menu.yaml").

    Raises:
        AssistantConfigError: The text is not YAML, or breaks ``model``.
    """
    try:
        return model.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise AssistantConfigError(f"{what} is not valid YAML: {error}") from None
    except ValidationError as error:
        raise AssistantConfigError(
            f"{what} is invalid: {describe_validation_error(error)}"
        ) from None
