"""absl flags derived from a config dataclass: one source of truth for names, defaults, help."""

from __future__ import annotations

import dataclasses
import typing

from absl import flags


def _field_type(config_cls, f: dataclasses.Field):
  return typing.get_type_hints(config_cls)[f.name]


def define_flags(config_cls, flag_values: flags.FlagValues = flags.FLAGS) -> None:
  """Define one flag per field of ``config_cls`` (types int, float, str, bool, tuple[int|float|str, ...])."""
  for f in dataclasses.fields(config_cls):
    kind = _field_type(config_cls, f)
    name = flag_name(f)
    help_text = f.metadata.get("help", f.name)
    choices = f.metadata.get("choices")
    default = f.default
    if choices is not None and kind is str:
      flags.DEFINE_enum(name, default, sorted(choices), help_text, flag_values=flag_values)
    elif kind is bool:
      flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
    elif kind is int:
      flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
    elif kind is float:
      flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
    elif kind is str:
      flags.DEFINE_string(name, default, help_text, flag_values=flag_values)
    elif typing.get_origin(kind) is tuple:
      item = typing.get_args(kind)[0]
      parse = {int: int, float: float, str: str}[item]
      flags.DEFINE_list(name, [str(v) for v in default], help_text + " (comma-separated)", flag_values=flag_values)
      flags.register_validator(
        name,
        lambda v, parse=parse: _parses(v, parse),
        message=f"--{name} must be a comma-separated list of {item.__name__}",
        flag_values=flag_values,
      )
    else:
      raise TypeError(f"{config_cls.__name__}.{f.name}: no flag type for {kind}")


def flag_name(f: dataclasses.Field) -> str:
  """The flag of a config field: its name, unless its metadata names another."""
  return f.metadata.get("flag") or f.name


def _parses(values, parse) -> bool:
  try:
    [parse(v) for v in values]
    return True
  except ValueError:
    return False


def config_from_flags(config_cls, flag_values: flags.FlagValues = flags.FLAGS):
  """Build the config from parsed flags; ValueError (naming the flag) if it is invalid."""
  kwargs = {}
  for f in dataclasses.fields(config_cls):
    value = flag_values[flag_name(f)].value
    kind = _field_type(config_cls, f)
    if typing.get_origin(kind) is tuple:
      parse = typing.get_args(kind)[0]
      value = tuple(parse(v) for v in value)
    kwargs[f.name] = value
  try:
    return config_cls(**kwargs)
  except ValueError as e:
    raise ValueError(f"invalid flag --{e}") from None
