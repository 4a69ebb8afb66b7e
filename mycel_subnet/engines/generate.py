"""generate_pattern: from a successful interaction log to a shareable LearnedPattern.

Safe by construction, in this order:
1. learn: one `InteractionScrubber` reads EVERY turn (user, assistant, tool) and EVERY code
   block in any language, so a value found anywhere is removed everywhere;
2. shape the reusable approach, from scrubbed text only: the kind of request (its task
   sentences; greetings, contact details and pasted data dropped, the data as one `{input}`
   slot), the steps that worked (the assistant's approach sentences), the code generalised into
   parameters (Python), or the tool-assisted steps (a workflow); specifics become `{variables}`;
3. measure utility and refuse below the threshold with the reason: reusable content vs slots
   for text, and for code that the generalised template still reproduces the original's own
   examples in the sandbox;
4. the final check: every string of the pattern (trigger, template, code, steps, requirements,
   names) against every learned value in every view (`leaks`); pieces that leak are dropped
   before assembly, and a leak in the assembled pattern refuses it, naming only the kinds.
A model (the llm engine) only rewrites the trigger, and its answer passes the same scrub and
leak check before it is used.
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pydantic import ValidationError

from mycel_subnet.engines.codecheck import literal_scrub_map, reproduces
from mycel_subnet.engines.codegen import FENCE, code_blocks, generalise_code, strip_code_blocks
from mycel_subnet.engines.codeinfo import PYTHON
from mycel_subnet.engines.induce import induce_template
from mycel_subnet.engines.outgoing import (
    clean_pieces,
    code_leaked_kinds,
    leak_reason,
    leaked_kinds,
    strings_of,
)
from mycel_subnet.engines.quality import SandboxConfig
from mycel_subnet.engines.risk import code_safety, prompt_safety
from mycel_subnet.engines.text import content_words, lexical_similarity, shorten
from mycel_subnet.intelligence.llm import LLMError, Router
from mycel_subnet.privacy.pipeline import MIN_CONTENT_WORDS, MIN_UTILITY, utility_score
from mycel_subnet.privacy.scrubber import InteractionScrubber
from mycel_subnet.privacy.shaping import (
    SLOT,
    approach_steps,
    fields,
    generalise_text,
    is_ask,
    is_filler,
    join_task,
    kind_of_request,
    sentences,
    slot_ratio,
    slots_to_variables,
    task_sentences,
    task_text,
    to_trigger,
    without_instance,
)
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

APPROACH = "Approach that worked:"
CODE_MARK = "codeblockxqz"  # lower-case: no generaliser rule touches it
STEP_MARK = "stepbreakxqz"
MAX_TRIGGER_CHARS = 300
MAX_WORKFLOW_STEP_CHARS = 400
MIN_ANSWER_WORDS = 3
MIN_CODE_SAFETY = 0.5
MAX_STEP_SLOT_RATIO = 1.0  # a step with more slots than words is the user's instance
MIN_TRIGGER_RELEVANCE = 0.2


class Refusal(Exception):
    """Nothing shareable: the message is the refusal_reason."""


@dataclass(frozen=True)
class GenerateOptions:
    creator: str
    sandbox: SandboxConfig
    use_presidio: bool = True  # the scrubber's NER model (names, places, organisations)
    trigger_tokens: int = 48


# --- the log ------------------------------------------------------------------------------


def learn_log(request: GeneratePatternRequest, scrubber: InteractionScrubber) -> None:
    """Every turn's prose and every code block, whatever its language (untagged: "")."""
    for turn in request.interaction_log.turns:
        prose = strip_code_blocks(turn.content, "\n")
        if prose.strip():
            scrubber.learn(prose)
        for block in code_blocks(turn.content):
            scrubber.learn(block.code, code_language=block.language)


def final_leak_check(
    request: GeneratePatternRequest,
    pattern: LearnedPattern,
    scrubber: InteractionScrubber | None = None,
) -> list[str]:
    """Kinds of values learned from the log that some string of `pattern` still carries."""
    if scrubber is None:
        scrubber = InteractionScrubber()
        learn_log(request, scrubber)
    shared = pattern.model_dump(mode="json")
    kinds: set[str] = set()
    solution = shared["solution"]
    if solution.get("kind") == "code_template":
        code, entry = solution.pop("code"), solution.pop("entrypoint") or ""
        kinds.update(code_leaked_kinds(scrubber, code, entry))
    kinds.update(leaked_kinds(scrubber, strings_of(shared)))
    return sorted(kinds)


def scrub_turn(text: str, scrubber: InteractionScrubber) -> str:
    """The turn's prose scrubbed, each code block replaced by a marker (code is shared only
    through the code template, never pasted into prose)."""
    pieces, cursor = [], 0
    for match in FENCE.finditer(text):
        pieces.append(scrubber.scrub(text[cursor : match.start()]))
        pieces.append(f" {CODE_MARK} ")
        cursor = match.end()
    pieces.append(scrubber.scrub(text[cursor:]))
    return "".join(pieces)


def pick_request(turns: list[str]) -> str:
    """The scrubbed user turn that asks the most (greetings, thanks and pasted data lose)."""
    if not turns:
        raise Refusal("the log has no user turn, so there is no request to generalise")
    return max(turns, key=lambda t: len(content_words(SLOT.sub(" ", task_text(t)))))


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


def _generalise(text: str) -> str:
    return generalise_text(text, {CODE_MARK: "{code}"})


def build_prompt(request_t: str, steps: list[str]) -> tuple[PromptTemplate, str]:
    """A prompt template (the kind of request, then the numbered approach) and its request
    part. One generalisation over both keeps a specific's variable name the same in each."""
    combined = request_t + (f"\n{STEP_MARK}\n" + f"\n{STEP_MARK}\n".join(steps) if steps else "")
    head, *rest = _generalise(combined).split(f"\n{STEP_MARK}\n")
    template = head.strip()
    if rest:
        numbered = "\n".join(f"{i}. {step.strip()}" for i, step in enumerate(rest, start=1))
        template += f"\n\n{APPROACH}\n{numbered}"
    if not fields(template):
        template += "\n\nInput: {input}"
    template = template[: L.MAX_TEMPLATE_LEN]
    return PromptTemplate(template=template, variables=fields(template)), head


def induce_from_repeats(user_turns: list[str]) -> PromptTemplate | None:
    """A template induced from several (scrubbed) user turns that are one request with
    different fills: the log shows which words are the instance. Each placeholder is one word
    while aligning, so `<ORG>` in one turn and `<TERM>` in another differ as a whole."""
    turns = [
        SLOT.sub(lambda m: f"slotxq{m.group(1)}qx", t)
        for t in user_turns
        if len(content_words(t)) >= MIN_CONTENT_WORDS
    ]
    template = induce_template(turns)
    if template is None or CODE_MARK in template or len(template) > L.MAX_TEMPLATE_LEN:
        return None
    template = re.sub(r"slotxq([A-Z][A-Z_]*)qx", r"<\1>", template)
    try:
        template = slots_to_variables(template, set(fields(template.replace("<", " "))))
        variables = fields(template)
    except ValueError:
        return None
    return PromptTemplate(template=template, variables=variables)


def scrub_literal(value: str, scrubber: InteractionScrubber) -> str:
    """One string literal through the scrubber's code mode (as `_ = '...'`); prose rules only
    when that does not come back as a single string."""
    out = scrubber.scrub(f"_ = {value!r}\n", code_language="python")
    try:
        node = ast.parse(out).body[0]
    except (SyntaxError, ValueError, IndexError):
        return scrubber.scrub(value)
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
        return str(node.value.value)
    return scrubber.scrub(value)


def build_code(
    code: str, scrubber: InteractionScrubber, sandbox: SandboxConfig
) -> CodeTemplate | str:
    """A code template, or the reason the code cannot be shared. The scrubber's code mode
    decides every literal; generalisation hoists the scrubbed ones into parameters; the
    template must load in the sandbox and reproduce the original's own examples."""
    mapping = literal_scrub_map(code, scrubber.scrub(code, code_language="python"))
    if mapping is None:  # the scrubbed code changed shape: scrub each literal on its own
        mapping = {}
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                clean = scrub_literal(node.value, scrubber)
                if clean != node.value:
                    mapping[node.value] = clean
    general = generalise_code(code, lambda text: (mapping.get(text, text), int(text in mapping)))
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
    check = reproduces(code, general, sandbox)
    if check is not None and not check.ok:
        return (
            "the generalised code no longer reproduces the original's own examples "
            f"({check.passed} of {check.total})"
        )
    return CodeTemplate(language="python", code=general.code, entrypoint=general.entrypoint)


def build_workflow(request_t: str, answers: list[str]) -> Workflow | None:
    """Steps from the assistant's (scrubbed) turns of a tool-assisted interaction."""
    texts = [request_t]
    for prose in answers:
        kept = " ".join(s for s in sentences(prose) if not is_filler(s))
        if len(content_words(kept)) >= MIN_ANSWER_WORDS:
            texts.append(shorten(kept, MAX_WORKFLOW_STEP_CHARS))
    if len(texts) < 3:
        return None
    texts = texts[: L.MAX_WORKFLOW_STEPS]
    parts = _generalise(f"\n{STEP_MARK}\n".join(texts)).split(f"\n{STEP_MARK}\n")
    steps = []
    for index, part in enumerate(parts, start=1):
        content = part.strip()[: L.MAX_TEMPLATE_LEN] or "continue"
        name = "understand the request" if index == 1 else f"step {index - 1}"
        steps.append(
            WorkflowStep(name=name, action="prompt", content=content, output=f"step_{index}")
        )
    return Workflow(steps=steps)


def refine_trigger(router: Router, trigger: str, scrubber: InteractionScrubber, tokens: int) -> str:
    """Ask the model for a more general trigger; keep ours unless its answer is clean (a model
    can echo private values back: its text passes the same scrub and leak check)."""
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
    if not 10 <= len(candidate) <= MAX_TRIGGER_CHARS or scrubber.leaks(candidate):
        return trigger
    masked = re.sub(r"<[a-z][a-z0-9_]*>", " ", candidate)
    if scrubber.scrub(masked) != masked:
        return trigger
    if lexical_similarity(candidate, trigger) < MIN_TRIGGER_RELEVANCE:
        return trigger
    return candidate


def refuse(reason: str) -> GeneratePatternResult:
    return GeneratePatternResult(generated_pattern=None, refusal_reason=reason[: L.MAX_DETAIL_LEN])


def generate(
    request: GeneratePatternRequest, options: GenerateOptions, router: Router | None
) -> GeneratePatternResult:
    if request.interaction_log.outcome == "failure":
        return refuse("the interaction failed, so it holds no solution worth sharing")
    try:
        return _generate(request, options, router)
    except Refusal as exc:
        return refuse(str(exc))


def check_utility(request_t: str, steps: list[str], has_code: bool) -> None:
    """Refuse below the utility threshold, saying why. Utility is the share of reusable
    content words among content words and slots, over the request and the approach; the
    request must name a task (one content word at least), and the pattern must carry
    MIN_CONTENT_WORDS content words (code counts as the solution itself)."""
    ratio, words = utility_score(_generalise(" ".join([request_t, *steps])))
    _, request_words = utility_score(_generalise(request_t))
    needed = 1 if has_code else MIN_CONTENT_WORDS
    if request_words < 1 or words < needed or ratio < MIN_UTILITY:
        raise Refusal(
            "nothing reusable remains once personal data and specifics are removed "
            f"(utility {ratio:.2f} with {words} content words, {request_words} in the request; "
            f"the threshold is {MIN_UTILITY} with {needed} words)"
        )


@dataclass
class _Parts:
    """What one log offers once scrubbed: the request's task sentences, approach steps, the
    assistant's scrubbed turns, the Python code (if any) and how many tool turns it had."""

    kept: list[str]
    steps: list[str]
    answers: list[str]
    users: list[str]
    code: str | None
    tools: int


def _generate(
    request: GeneratePatternRequest, options: GenerateOptions, router: Router | None
) -> GeneratePatternResult:
    scrubber = InteractionScrubber(use_ner=options.use_presidio)
    learn_log(request, scrubber)
    turns = request.interaction_log.turns
    users = [scrub_turn(t.content, scrubber) for t in turns if t.role == "user"]
    answers = [scrub_turn(t.content, scrubber) for t in turns if t.role == "assistant"]
    kept, _ = clean_pieces(scrubber, task_sentences(pick_request(users)))
    kept = without_instance(kept)
    candidate_steps = [
        s for s in approach_steps("\n".join(a.replace(CODE_MARK, " ") for a in answers))
        if slot_ratio(s) <= MAX_STEP_SLOT_RATIO
    ]  # fmt: skip
    steps, dropped = clean_pieces(scrubber, candidate_steps)
    if dropped:
        log.info("dropped %d approach steps that still carried a private value", dropped)
    code = pick_code(request)
    check_utility(join_task(kept), steps, code is not None)
    if code is None and not steps:
        raise Refusal("the assistant's reply holds no reusable solution")
    parts = _Parts(kept, steps, answers, users, code, sum(t.role == "tool" for t in turns))
    # Each piece passed the leak check alone; pieces joined can still form a learned value
    # (a name split over two lines). Then the pattern is rebuilt from less: the asks only,
    # then without the code, and every attempt faces the same final check.
    asks = [p for p in kept if is_ask(p.replace(CODE_MARK, " "))] or kept
    attempts = [parts, replace(parts, kept=asks), replace(parts, kept=asks, code=None)]
    reason = ""
    for attempt in attempts:
        if attempt.code is None and not attempt.steps:
            continue
        pattern = _assemble(request, options, router, scrubber, attempt)
        kinds = final_leak_check(request, pattern, scrubber)
        if not kinds:
            return GeneratePatternResult(generated_pattern=pattern)
        reason = reason or leak_reason(kinds)
    raise Refusal(reason)


def _assemble(
    request: GeneratePatternRequest,
    options: GenerateOptions,
    router: Router | None,
    scrubber: InteractionScrubber,
    parts: _Parts,
) -> LearnedPattern:
    """The pattern from the scrubbed parts: prompt template, code template or workflow."""
    request_t = join_task(parts.kept)
    prompt, head = build_prompt(request_t, parts.steps)
    induced = induce_from_repeats(parts.users) if parts.code is None else None
    if induced is not None:  # the log repeats one request: its shared text is the pattern
        prompt, head = induced, induced.template
    solution: PromptTemplate | CodeTemplate | Workflow = prompt
    requirements = requirement_names(list(prompt.variables))
    language = None
    if parts.code is not None:
        built = build_code(parts.code, scrubber, options.sandbox)
        if isinstance(built, CodeTemplate):
            solution, requirements, language = built, [], "python"
        else:
            log.info("sharing a prompt template instead of code: %s", built)
            if not parts.steps:
                raise Refusal(f"the code cannot be shared ({built}) and no approach remains")
    elif parts.tools >= 2:
        workflow = build_workflow(request_t, parts.answers)
        if workflow is not None:
            solution = workflow
    asks = [p.replace(CODE_MARK, " ").strip() for p in parts.kept]
    kind = _generalise(kind_of_request([p for p in asks if p])) if induced is None else head
    plain_head = re.sub(r"\s*\{(?:code|input)\}\s*", " ", head).strip()
    trigger = to_trigger(kind or plain_head or head, MAX_TRIGGER_CHARS)
    if scrubber.leaks(trigger):  # sentences joined can form a learned value: one at a time
        singles = [to_trigger(_generalise(p), MAX_TRIGGER_CHARS) for p in asks if p]
        trigger = next((t for t in singles if not scrubber.leaks(t)), f"a {request.domain} task")
    if router is not None:
        trigger = refine_trigger(router, trigger, scrubber, options.trigger_tokens)
    if isinstance(solution, PromptTemplate) and (
        prompt_safety(solution.template).value < MIN_CODE_SAFETY
    ):
        raise Refusal("the request carries prompt-injection markers; not shared")
    try:
        return LearnedPattern(
            creator=options.creator,
            created_at=datetime.now(UTC),
            trigger=trigger.strip() or "a request like this one",
            context_requirements=requirements,
            solution=solution,
            domain=request.domain,
            language=language,
        )
    except ValidationError as exc:
        raise Refusal(
            f"no valid pattern could be built: {describe_validation_error(exc)}"
        ) from None


def requirement_names(variables: list[str]) -> list[str]:
    """Variable names as requirements, without numbering: ["company", "amount"]."""
    out: list[str] = []
    for var in variables:
        base = re.sub(r"_\d+$", "", var).replace("_", " ")
        if base not in out and base not in ("details", "code", "input"):
            out.append(base)
    return out[: L.MAX_REQUIREMENTS]
