"""generate_pattern: from a successful interaction log to a shareable LearnedPattern.

The vision's pipeline, in order: pick the request (the insight to generalise) and the answer
that solved it; remove personal data everywhere (values found in one turn are removed from all
turns and from code literals); turn the remaining specifics into `{variables}`; refuse when
too little is left (the utility threshold); otherwise build a code template (when the answer
carries Python code), a workflow (when the answer was several tool-assisted steps) or a prompt
template. The trigger is the generalised request with `<variable>` slots.
"""

from __future__ import annotations

import ast
import logging
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from mycel_subnet.engines.codegen import (
    code_blocks,
    generalise_code,
    strip_code_blocks,
)
from mycel_subnet.engines.codeinfo import PYTHON
from mycel_subnet.engines.induce import induce_template
from mycel_subnet.engines.quality import SandboxConfig
from mycel_subnet.engines.risk import code_safety, prompt_safety
from mycel_subnet.engines.scrub import LogScrubber
from mycel_subnet.engines.text import content_words, lexical_similarity, shorten
from mycel_subnet.intelligence.llm import LLMError, Router
from mycel_subnet.privacy.generalise import generalise
from mycel_subnet.privacy.pipeline import MIN_CONTENT_WORDS, MIN_UTILITY, utility_score
from mycel_subnet.privacy.recognisers import find_spans
from mycel_subnet.sandbox import run_python
from protocol import (
    CodeTemplate,
    GeneratePatternRequest,
    GeneratePatternResult,
    LearnedPattern,
    PromptTemplate,
    Workflow,
    WorkflowStep,
    describe_validation_error,
)
from protocol import limits as L

log = logging.getLogger(__name__)

APPROACH = "\n\nApproach that worked: "
STEP_BREAK = "\n\n\u241e\n\n"  # a separator the generaliser leaves alone
CODE_SENTINEL = "CODEBLOCKXQZ"
MAX_REQUEST_CHARS = 600
MAX_APPROACH_CHARS = 600
MAX_STEP_CHARS = 400
MAX_TRIGGER_CHARS = 300
MIN_ANSWER_WORDS = 3
MIN_CODE_SAFETY = 0.5
_PII_SLOT = re.compile(r"<([A-Z][A-Z_]*)>")
PLEASANTRIES = frozenset(
    """hi hello hey dear thank thanks regard best cheer kind sincerely morning afternoon evening
    great awesome perfect cool welcome bye goodbye sure person""".split()  # noqa: SIM905
)
CONTACT_WORDS = frozenset(
    """i'm im name call reach contact mail email e-mail phone number key token password address
    live work sign signed cc""".split()  # noqa: SIM905
)


class Refusal(Exception):
    """Nothing shareable: the message is the refusal_reason."""


@dataclass(frozen=True)
class GenerateOptions:
    creator: str
    sandbox: SandboxConfig
    use_presidio: bool = True
    trigger_tokens: int = 48


# --- text shaping -------------------------------------------------------------------------


def _is_filler(sentence: str) -> bool:
    """Greetings, thanks and sign-offs, and sentences that only hand over the user's own
    details ("I'm <PERSON>, call me at <PHONE>", "my key is <API_KEY>")."""
    words = set(content_words(_PII_SLOT.sub(" ", sentence)))
    if not words:
        return True
    if words <= PLEASANTRIES:
        return True
    return bool(_PII_SLOT.search(sentence)) and words <= PLEASANTRIES | CONTACT_WORDS


def drop_pleasantries(text: str) -> str:
    """The text without filler sentences (see `_is_filler`)."""
    kept_lines = []
    for line in text.splitlines():
        kept = [s for s in re.split(r"(?<=[.!?])\s+", line) if not _is_filler(s)]
        if kept:
            kept_lines.append(" ".join(kept))
    return "\n".join(kept_lines).strip()


def slots_to_variables(template: str, taken: set[str]) -> str:
    """`<EMAIL>` placeholders from PII removal become `{email}` variables."""
    names: dict[str, str] = {}

    def name_for(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind not in names:
            base = kind.lower()
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            names[kind] = name
        return "{" + names[kind] + "}"

    return _PII_SLOT.sub(name_for, template)


def generalise_text(text: str) -> str:
    """Specifics -> `{variables}`, PII placeholders included; a valid format string."""
    general = generalise(text)
    out = slots_to_variables(general.template, set(general.variables))
    return out.replace(CODE_SENTINEL, "{code}")


def to_trigger(template: str) -> str:
    """A template's text with `{var}` shown as `<var>` and escapes undone."""
    pieces = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        pieces.append(literal)
        if field is not None:
            pieces.append(f"<{field}>")
    return shorten("".join(pieces), MAX_TRIGGER_CHARS)


def requirement_names(variables: list[str]) -> list[str]:
    """Variable names as requirements, without numbering: ["company", "amount"]."""
    out: list[str] = []
    for var in variables:
        base = re.sub(r"_\d+$", "", var).replace("_", " ")
        if base not in out and base not in ("details", "code"):
            out.append(base)
    return out[: L.MAX_REQUIREMENTS]


# --- the log ------------------------------------------------------------------------------


def _string_literals(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def learn_private_values(request: GeneratePatternRequest, scrubber: LogScrubber) -> None:
    for turn in request.interaction_log.turns:
        scrubber.learn(strip_code_blocks(turn.content, "\n"))
        for block in code_blocks(turn.content):
            for literal in _string_literals(block.code):
                scrubber.learn(literal, guess_names=False)


def pick_request(request: GeneratePatternRequest) -> str:
    """The user turn that says the most (greetings and 'thanks!' turns lose)."""
    turns = [t.content for t in request.interaction_log.turns if t.role == "user"]
    if not turns:
        raise Refusal("the log has no user turn, so there is no request to generalise")
    return max(turns, key=lambda t: len(content_words(strip_code_blocks(t))))


def pick_code(request: GeneratePatternRequest) -> str | None:
    """The last Python code block the assistant wrote (untagged blocks count if they parse)."""
    found = None
    for turn in request.interaction_log.turns:
        if turn.role != "assistant":
            continue
        for block in code_blocks(turn.content):
            if block.language in PYTHON or (not block.language and _parses(block.code)):
                found = block.code
    return found


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


# --- building -----------------------------------------------------------------------------


def build_prompt(request_t: str, approach: str) -> tuple[PromptTemplate, str]:
    """A prompt template (request + the approach that worked) and the request part."""
    combined = request_t + (APPROACH + approach if approach else "")
    template = generalise_text(combined)
    head = template.split(generalise(APPROACH).template, 1)[0]
    if not _fields(template):
        template += "\n\nDetails: {details}"
    variables = _fields(template)
    return PromptTemplate(template=template[: L.MAX_TEMPLATE_LEN], variables=variables), head


def induce_from_repeats(request: GeneratePatternRequest) -> PromptTemplate | None:
    """A template induced from several user turns that are one request with different fills."""
    turns = [
        strip_code_blocks(t.content, f" {CODE_SENTINEL} ")
        for t in request.interaction_log.turns
        if t.role == "user" and len(content_words(t.content)) >= MIN_CONTENT_WORDS
    ]
    template = induce_template(turns)
    if template is None or CODE_SENTINEL in template or len(template) > L.MAX_TEMPLATE_LEN:
        return None
    return PromptTemplate(template=template, variables=_fields(template))


def _fields(template: str) -> list[str]:
    out: list[str] = []
    for _lit, field, _s, _c in string.Formatter().parse(template):
        if field is not None and field not in out:
            out.append(field)
    return out


def build_code(code: str, scrubber: LogScrubber, sandbox: SandboxConfig) -> CodeTemplate | str:
    """A code template, or the reason the code cannot be shared."""
    general = generalise_code(code, scrubber.literal)
    if general is None:
        return "the code does not parse or personal data could not be removed from it"
    safety = code_safety(general.code, "python")
    if safety.value < MIN_CODE_SAFETY:
        return "the code is unsafe to share: " + "; ".join(safety.findings[:2])
    loaded = run_python(
        general.code, limits=sandbox.limits, isolate_network=sandbox.isolate_network
    )
    if not loaded.ok:
        return f"the generalised code does not load in the sandbox: {loaded.detail[:120]}"
    return CodeTemplate(language="python", code=general.code, entrypoint=general.entrypoint)


def build_workflow(
    request_t: str, request: GeneratePatternRequest, scrubber: LogScrubber
) -> Workflow | None:
    """Steps from the assistant's turns of a tool-assisted interaction."""
    texts = [request_t]
    for turn in request.interaction_log.turns:
        if turn.role == "assistant":
            prose = drop_pleasantries(scrubber.prose(strip_code_blocks(turn.content)))
            if len(content_words(prose)) >= MIN_ANSWER_WORDS:
                texts.append(shorten(prose, MAX_STEP_CHARS))
    if len(texts) < 3:
        return None
    texts = texts[: L.MAX_WORKFLOW_STEPS]
    parts = generalise_text(STEP_BREAK.join(texts)).split(STEP_BREAK.strip())
    steps = []
    for index, part in enumerate(parts, start=1):
        content = part.strip()[: L.MAX_TEMPLATE_LEN] or "continue"
        name = "understand the request" if index == 1 else f"step {index - 1}"
        steps.append(
            WorkflowStep(name=name, action="prompt", content=content, output=f"step_{index}")
        )
    return Workflow(steps=steps)


def refine_trigger(router: Router, trigger: str, scrubber: LogScrubber, tokens: int) -> str:
    """Ask the model for a more general trigger; keep ours unless its answer is clean."""
    prompt = (
        "Rewrite this request as one short sentence describing the kind of task, keeping "
        f"placeholders like <company> as they are. Request: {trigger}\nTask description:"
    )
    try:
        text = router.generate(prompt, max_new_tokens=tokens).text.strip().splitlines()[0:1]
    except LLMError as exc:
        log.info("trigger refinement skipped: %s", exc)
        return trigger
    candidate = text[0].strip().strip('"') if text else ""
    if not 10 <= len(candidate) <= MAX_TRIGGER_CHARS:
        return trigger
    if scrubber.prose(candidate) != candidate or lexical_similarity(candidate, trigger) < 0.2:
        return trigger
    return candidate


def _leaks(texts: list[str]) -> bool:
    return any(True for text in texts for _ in find_spans(text))


def refuse(reason: str) -> GeneratePatternResult:
    return GeneratePatternResult(generated_pattern=None, refusal_reason=reason[: L.MAX_DETAIL_LEN])


def generate(
    request: GeneratePatternRequest, options: GenerateOptions, router: Router | None
) -> GeneratePatternResult:
    log_ = request.interaction_log
    if log_.outcome == "failure":
        return refuse("the interaction failed, so it holds no solution worth sharing")
    try:
        return _generate(request, options, router)
    except Refusal as exc:
        return refuse(str(exc))


def _generate(
    request: GeneratePatternRequest, options: GenerateOptions, router: Router | None
) -> GeneratePatternResult:
    scrubber = LogScrubber(use_presidio=options.use_presidio)
    learn_private_values(request, scrubber)
    raw_request = strip_code_blocks(pick_request(request), f" {CODE_SENTINEL} ")
    request_t = drop_pleasantries(scrubber.prose(raw_request))[:MAX_REQUEST_CHARS]
    ratio, words = utility_score(generalise_text(request_t))
    if words < MIN_CONTENT_WORDS or ratio < MIN_UTILITY:
        raise Refusal(
            "nothing reusable remains once personal data and specifics are removed "
            f"(utility {ratio:.2f} with {words} content words; the threshold is {MIN_UTILITY} "
            f"with {MIN_CONTENT_WORDS} words)"
        )
    answers = [t.content for t in request.interaction_log.turns if t.role == "assistant"]
    tools = [t for t in request.interaction_log.turns if t.role == "tool"]
    approach = drop_pleasantries(scrubber.prose(strip_code_blocks("\n".join(answers))))
    code = pick_code(request)
    if code is None and len(content_words(approach)) < MIN_ANSWER_WORDS:
        raise Refusal("the assistant's reply holds no reusable solution")

    prompt, head = build_prompt(request_t, shorten(approach, MAX_APPROACH_CHARS))
    induced = induce_from_repeats(request) if code is None else None
    if induced is not None:  # the log repeats one request: its shared text is the pattern
        prompt, head = induced, induced.template
    solution: PromptTemplate | CodeTemplate | Workflow = prompt
    requirements = requirement_names(list(prompt.variables))
    language = None
    if code is not None:
        built = build_code(code, scrubber, options.sandbox)
        if isinstance(built, CodeTemplate):
            solution, requirements, language = built, [], "python"
        else:
            log.info("sharing a prompt template instead of code: %s", built)
    elif len(tools) >= 2:
        workflow = build_workflow(request_t, request, scrubber)
        if workflow is not None:
            solution = workflow
    trigger = to_trigger(head)
    if router is not None:
        trigger = refine_trigger(router, trigger, scrubber, options.trigger_tokens)
    shared_text = [trigger, *requirements]
    if isinstance(solution, PromptTemplate):
        shared_text.append(solution.template)
        if prompt_safety(solution.template).value < MIN_CODE_SAFETY:
            raise Refusal("the request carries prompt-injection markers; not shared")
    elif isinstance(solution, Workflow):
        shared_text.extend(s.content for s in solution.steps)
    if _leaks(shared_text):
        raise Refusal("personal data could not be removed reliably; nothing is shared")
    try:
        pattern = LearnedPattern(
            creator=options.creator,
            created_at=datetime.now(UTC),
            trigger=trigger or "a request like this one",
            context_requirements=requirements,
            solution=solution,
            domain=request.domain,
            language=language,
        )
    except ValidationError as exc:
        raise Refusal(
            f"no valid pattern could be built: {describe_validation_error(exc)}"
        ) from None
    return GeneratePatternResult(generated_pattern=pattern)
