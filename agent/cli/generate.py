"""``autopatch generate``: one chat completion with the configured LLM."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agent.cli.common import SubParsers, dump_json
from agent.config import AppConfig, with_llm
from agent.ui import console, info
from cores.registry import ModelRegistry

EXAMPLE = 'example: autopatch generate "Write a Python function that reverses a string"'


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "generate",
        help="one chat completion with the configured LLM",
        epilog=EXAMPLE,
        parents=[common],
    )
    p.add_argument("prompt", help="the user message")
    p.add_argument("--system", help="system message")
    p.add_argument("--model", help="registry model name (default: the active llm)")
    p.add_argument("--backend", help="llama_cpp | openai | scripted")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json-schema", type=Path, help="file with a JSON schema: constrained output")
    p.set_defaults(handler=cmd_generate, configure=configure)


def configure(config: AppConfig, args: argparse.Namespace) -> AppConfig:
    """The LLM this command talks to: ``--model`` / ``--backend`` over the config."""
    return with_llm(config, model=args.model, backend=args.backend)


def cmd_generate(args: argparse.Namespace, config: AppConfig) -> int:
    from cores.llm import create_llm
    from cores.types import GenerationParams, Message

    schema = None
    if args.json_schema:
        try:
            schema = json.loads(args.json_schema.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read JSON schema {args.json_schema}: {exc}") from None
    registry = ModelRegistry(config.data_dir)
    with console(stderr=True).status(f"loading {config.llm.model} ({config.llm.backend})"):
        llm = create_llm(config.llm, registry)
    messages = [Message("system", args.system)] if args.system else []
    messages.append(Message("user", args.prompt))
    params = GenerationParams(
        max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed, json_schema=schema
    )
    with console(stderr=True).status("generating"):
        out = llm.chat(messages, params)
    llm.close()
    if args.json:
        dump_json(out.to_dict())
    else:
        console().print(out.text, markup=False)
        info(
            f"[{out.model_id}] {out.prompt_tokens} prompt + {out.completion_tokens} completion "
            f"tokens in {out.latency_s:.1f}s ({out.tokens_per_s:.1f} tok/s)"
        )
    return 0
