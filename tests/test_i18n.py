"""The message catalogs: complete, up to date, compiled; and the language switch through
every door (Python, the magic's ``--lang`` and ``%config CnnMagic.lang``, the CLI).

``tools/messages.py`` rebuilds the catalogs; these tests fail when someone adds a
message to the code and forgets to run it, or leaves a message without Chinese.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

import cnn_magic
import cnn_magic.exercises
from cnn_magic.i18n import LOCALE_DIR, current_language, display_width, language, set_language

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import messages  # noqa: E402  (tools/ is not a package)

FIELD = re.compile(r"\{[A-Za-z_][A-Za-z_0-9]*(?:![rsa])?(?::[^{}]*)?\}")  # a str.format field


def zh_catalog() -> Catalog:
    with messages.po_path("zh").open("rb") as file:
        return read_po(file, locale="zh", domain=messages.DOMAIN)


def test_the_catalog_files_are_what_tools_messages_makes() -> None:
    """Template extracted from the code, merged .po, compiled .mo: all committed as
    ``python tools/messages.py`` writes them."""
    stale = [
        str(path.relative_to(REPO))
        for path, content in messages.wanted().items()
        if not path.exists() or path.read_bytes() != content
    ]
    assert not stale, f"run python tools/messages.py: stale {stale}"


def test_every_message_has_a_chinese_version() -> None:
    template = messages.template()
    catalog = zh_catalog()
    ids = [m.id for m in template if m.id]
    assert len(ids) >= 60
    missing, broken = [], []
    for message_id in ids:
        message = catalog.get(message_id)
        # a plural message has a tuple of English forms and a list of Chinese ones
        english = [message_id] if isinstance(message_id, str) else [*message_id]
        given = None if message is None else message.string
        chinese = [given] if isinstance(given, str) else [*(given or ())]
        if message is None or not all(chinese) or message.fuzzy:
            missing.append(message_id)
            continue
        fields = sorted(FIELD.findall(english[-1]))
        if any(sorted(FIELD.findall(str(form))) != fields for form in chinese):
            broken.append((message_id, chinese))
    assert not missing, f"no Chinese for {missing}"
    assert not broken, f"placeholders differ: {broken}"


def test_the_compiled_catalog_is_the_one_gettext_reads() -> None:
    path = LOCALE_DIR / "zh" / "LC_MESSAGES" / "cnn_magic.mo"
    assert path.read_bytes() == messages.compiled("zh")
    translations = gettext.GNUTranslations(io.BytesIO(path.read_bytes()))
    for message in zh_catalog():
        if isinstance(message.id, str) and message.id:
            assert translations.gettext(message.id) == message.string
        elif message.id:  # plural: Chinese has one form
            singular, plural = message.id
            forms = message.string
            assert isinstance(forms, (list, tuple))
            assert translations.ngettext(singular, plural, 2) == forms[0]


def test_no_message_hides_inside_an_f_string() -> None:
    """Babel cannot extract ``_("...")`` from inside an f-string (before Python 3.12),
    so a message there would never reach the catalog."""
    offenders = []
    for path in sorted((REPO / "cnn_magic").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in ("_", "_n", "N_")
                    and inner.args
                    and isinstance(inner.args[0], ast.Constant)
                ):
                    offenders.append(f"{path.name}:{inner.lineno}")
    assert not offenders


def test_a_language_block_and_the_default() -> None:
    assert current_language() == "en"
    with language("zh"):
        assert cnn_magic.exercise("fc", seed=1).to_text().startswith("练习（fc，种子 1）")
        with language(None):
            assert current_language() == "zh"
    assert cnn_magic.exercise("fc", seed=1).to_text().startswith("Exercise (fc, seed 1)")
    try:
        set_language("zh_CN")
        assert current_language() == "zh"
    finally:
        set_language("en")
    with pytest.raises(cnn_magic.CNNError, match="unknown language 'fr'"):
        set_language("fr")


def test_check_speaks_the_language_in_force() -> None:
    with language("zh"), pytest.raises(AssertionError) as error:
        cnn_magic.check("input 32x32x1; C1: conv 6 k5", {"C1.params": 150}, strict=True)
    assert str(error.value).startswith("C1.params：应为 156，答案为 150\n")


def test_the_magic_switches_per_cell_and_per_session(shell: Any) -> None:
    shell.run_line_magic("load_ext", "cnn_magic")
    shell.run_cell_magic("cnn", "--quiz sizes --static --lang zh", "input 9x9x1\nmaxpool k2 s2")
    assert "得分：1 题答对 0 题" in shell.display_pub.outputs[-1]["data"]["text/plain"]
    assert current_language() == "en"  # only that cell
    try:
        shell.run_line_magic("config", 'CnnMagic.lang = "zh"')
        assert current_language() == "zh"
        shell.run_cell_magic("cnn", "--quiz sizes --static", "input 9x9x1\nmaxpool k2 s2")
        assert "得分" in shell.display_pub.outputs[-1]["data"]["text/plain"]
        with pytest.raises(cnn_magic.CNNError, match="--quiz 不能隐藏 'sise'"):
            shell.run_cell_magic("cnn", "--quiz sise", "input 9x9x1\nmaxpool k2 s2")
    finally:
        shell.run_line_magic("config", 'CnnMagic.lang = "en"')
    assert current_language() == "en"
    with pytest.raises(cnn_magic.CNNError, match="unknown language 'klingon'"):
        shell.run_cell_magic("cnn", "--lang klingon", "input 9x9x1\nmaxpool k2 s2")


# ------------------------------------------------------------- nothing left in English


# What stays as it is in Chinese: layer words and their arguments, option values that
# the user types, formula symbols, units and the conventions' abbreviations.
def _words(text: str) -> set[str]:
    return set(text.split())


KEPT = (
    _words("k K S P C H W N d g op B")
    | _words("H_in W_in H_out W_out C_in C_out N_in N_out n_c k_h k_w k_eff S_h S_w P_h P_w")
    | _words("textbook floor ceil flops macs exact FLOPs MACs same valid nobias input")
    | _words("float32 float16 bfloat16 float64 int8 uint8 int32 KiB MiB GiB")
    | _words("ceil_mode True PyTorch TensorFlow Caffe fvcore torchvision LeNet AvgPool")
    | _words("exp erf max min alpha HxW HxWxC DxHxW out_pad")  # formulas, shapes, fields
)
NETWORK = """input 13x13x3
C1: conv 8 k3 s2 p1 relu
P1: maxpool k2 s2 p1
D1: dwconv k3 p1
G1: conv 8 k1 g2 nobias
B1: bn
T1: deconv 4 k2 s2
F1: fc 10 softmax
"""


# one layer of (nearly) every kind, for the explanations' words in Chinese
EVERY_LAYER = """input 16x16x8
conv 8 k3 p1 relu
dwconv k3 p1
deconv 8 k2 s2
pool: maxpool k2 s2
maxunpool pool
maxpool k2 s2
opaque 8x8x8
avgpool k2 s2
bn
lrn
layernorm
groupnorm 4
instancenorm affine
layerscale
channelshuffle 2
pixelunshuffle 2
pixelshuffle 2
upsample 2 bilinear
pad 1 reflect
crop 8x8
dropout 0.5
identity
leakyrelu 0.1
prelu
elu
gelu
silu
hardswish
sigmoid
hardsigmoid
tanh
adaptiveavgpool 3
adaptivemaxpool 2
gap
flatten
fc 10 softmax
"""


def english_words(text: str, network: str = NETWORK) -> set[str]:
    """Words of Latin letters in ``text`` that are neither kept words nor words of the
    network text (layer words and names)."""
    from cnn_magic.dsl import BLOCK_WORDS, FLAGS, KEYS
    from cnn_magic.layers import ALIASES, RULES

    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", network))
    kept = KEPT | set(RULES) | set(ALIASES) | set(BLOCK_WORDS) | set(KEYS) | set(FLAGS) | words
    found = set(re.findall(r"[A-Za-z][A-Za-z_]*[A-Za-z0-9]*", text))
    return {
        word
        for word in found
        if word not in kept and len(word) > 1 and not LANGUAGE_TOKEN.match(word)
    }


# the layer language's own tokens: k5, s2, g32, labels (C1), x32x1 (of 32x32x1)
LANGUAGE_TOKEN = re.compile(r"([a-z]{1,2}\d+|[A-Z]\d+|x\d+(x\d+)*|branch\d+)\Z")


def screens_in_chinese() -> dict[str, tuple[str, str]]:
    """Everything the product shows, rendered in Chinese: (text, the network it shows)."""
    from cnn_magic.explain import explain
    from cnn_magic.grading import QUANTITIES
    from cnn_magic.quiz import QuizView
    from cnn_magic.widget import CNNView

    out: dict[str, tuple[str, str]] = {}
    with language("zh"):
        net = cnn_magic.evaluate(NETWORK)
        view = QuizView(NETWORK, hide=("output", "weights", "biases", "params", "count"))
        out["quiz"] = view.to_text(), NETWORK
        out["hints"] = "\n".join(view.hint(b.key) for b in view.blanks), NETWORK
        out["derivations"] = "\n".join(view.derivation(b.key) for b in view.blanks), NETWORK
        view.set(rounding="floor")
        out["notice"] = view.notice, NETWORK
        out["table"] = CNNView(NETWORK).to_text(), NETWORK
        out["explain"] = explain(net, all_ops=True).to_text(), NETWORK
        every = cnn_magic.evaluate(EVERY_LAYER)
        names = " ".join(layer.name for layer in every.layers) + " nearest PReLU"
        out["every layer, explained"] = explain(every, all_ops=True).to_text(), EVERY_LAYER + names
        out["every layer, table"] = every.to_text(all_ops=True), EVERY_LAYER + names
        for kind in cnn_magic.exercises.KINDS:
            problem = cnn_magic.exercise(kind, seed=1)
            # question keys (C1.params) and the kind's name are identifiers a student types
            names = " ".join([kind, "total", *QUANTITIES])
            out[kind] = problem.to_text(), f"{problem.text} {names}"
    return out


def test_every_screen_in_chinese_leaves_no_english_word() -> None:
    left = {
        name: english_words(text, network) for name, (text, network) in screens_in_chinese().items()
    }
    left = {name: words for name, words in left.items() if words}
    assert not left, left


def test_the_command_line_speaks_chinese() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "cnn_magic", "--lang", "zh"],
        input="input 9x9x1\ncnov 3\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "第 2 行：未知的层 'cnov'"
    assert done.stderr.splitlines()[-1] == "你是指 'conv' 吗？"


def test_an_error_in_chinese_points_as_in_english() -> None:
    with language("zh"), pytest.raises(cnn_magic.CNNError) as error:
        cnn_magic.evaluate("input 4x4x1\nconv 8 k5")
    lines = str(error.value).splitlines()
    assert lines[0] == "第 2 行：卷积核 5 大于填充后的输入高 4 + 2·0 = 4"
    assert lines[1:3] == ["    conv 8 k5", "           ^^"]
    assert not english_words(str(error.value), "input 4x4x1\nconv 8 k5")


def test_every_error_case_reads_in_chinese() -> None:
    """The error cases of test_errors.py, in Chinese: the same line and caret, and no
    English word but the text's own and the layer language's."""
    from test_errors import CASES

    assert len(CASES) >= 40
    for text, line, column, _words in CASES:
        with language("zh"), pytest.raises(cnn_magic.CNNError) as error:
            cnn_magic.evaluate(text)
        message = str(error.value)
        assert (error.value.line, error.value.column) == (line, column), text
        if line:
            assert message.startswith(f"第 {line} 行："), message
        left = english_words(message, text + " " + " ".join(KEY_WORDS))
        assert not left, (text, message, left)


# the layer language's argument words, which hints quote ("k5 or k=3x1")
KEY_WORDS = ("kernel", "stride", "padding", "dilation", "groups", "bias", "yes", "no", "mode")


MESSAGE_CALLS = {"error", "CNNError", "_indent_error"}


def bare_messages(
    path: Path, calls: set[str], arguments: Callable[[ast.Call], list[Any]]
) -> list[str]:
    """Where a call of one of ``calls`` in ``path`` is given, among the ``arguments`` it
    shows the user, an English string or f-string that the catalog does not translate."""
    bare = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in calls:
            continue
        for value in arguments(node):
            literal = isinstance(value, ast.JoinedStr) or (
                isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and re.search("[A-Za-z]{2}", value.value)
            )
            if literal:
                bare.append(f"{path.relative_to(REPO)}:{value.lineno}")
    return bare


def test_every_error_message_goes_through_the_catalog() -> None:
    """A message or hint written as a bare string (or f-string) in an error call would
    reach a Chinese user in English: each must be ``_("...")`` (or built from one)."""
    bare = []
    for path in sorted((REPO / "cnn_magic").rglob("*.py")):
        bare += bare_messages(
            path,
            MESSAGE_CALLS,
            lambda call: [*call.args[:1], *(k.value for k in call.keywords if k.arg == "hint")],
        )
    assert not bare, bare


# the importers' reasons for a part they cannot write, listed in their refusals
REASON_CALLS = {"_Unknown", "Unwritable", "_Untraceable", "_Padding"}
REASON_MODULES = (
    "importers/torch.py",
    "importers/graph.py",
    "importers/words.py",
    "importers/onnx.py",
)


@pytest.mark.parametrize("module", REASON_MODULES)
def test_every_reason_an_importer_gives_goes_through_the_catalog(module: str) -> None:
    """Why a module has no word ("no layer word for this module") is part of the
    refusal a user reads: each reason is ``_("...")`` too."""
    bare = bare_messages(
        REPO / "cnn_magic" / module,
        REASON_CALLS,
        lambda call: [*call.args, *(k.value for k in call.keywords)],
    )
    assert not bare, bare


# ------------------------------------------------------------- help and argparse's words

NAMES = "AlexNet ConvNeXt ShuffleNet SegNet PHxPW"  # networks' names and a shape's letters
TOOL_NAMES = "CNN ONNX onnx torchinfo fvcore ptflops thop FlopCounterMode cnn_magic svg LaTeX en zh"


def option_words(parser: Any) -> str:
    """Every option string, metavar, choice and the program's name: what a help keeps."""
    words = [parser.prog, TOOL_NAMES]
    for action in parser._actions:
        words += [*action.option_strings, str(action.metavar or ""), action.dest]
        words += [str(choice) for choice in action.choices or ()]
    return " ".join(words)


def described(help_text: str) -> str:
    """The words of a help that describe: the options' and the layers' sentences and
    the text above them, without the usage block and the options' invocations."""
    out = []
    for block in help_text.split("\n\n")[1:]:
        if block.startswith("  %cnn ["):  # the magic's usage, after IPython's "::"
            continue
        for line in block.splitlines():
            if " — " in line:  # a layer: usage — meaning
                out.append(line.split(" — ", 1)[1])
            elif re.match(r"  \S", line):  # an option: its invocation, then its help
                out += re.split(r"\s{2,}", line.strip(), maxsplit=1)[1:]
            else:
                out.append(line)
    return "\n".join(out)


def test_the_command_line_help_speaks_chinese() -> None:
    import subprocess

    from cnn_magic.cli import parser

    def helped(*lang: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cnn_magic", *lang, "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    english, chinese = helped(), helped("--lang", "zh")
    assert english.startswith("usage: cnn-magic [-h]")
    assert "show this help message and exit" in english
    assert chinese.startswith("用法：cnn-magic [-h]")
    # the usage's later lines start under the program's options, counted in columns
    for help_text, prefix in ((english, "usage: "), (chinese, "用法：")):
        second = help_text.split("\n")[1]
        assert second.index("[") == display_width(prefix) + len("cnn-magic ")
    assert "位置参数:" in chinese and ("选项:" in chinese)
    assert "  -h, --help            显示此帮助信息并退出" in chinese
    assert "输出的语言：en 或 zh" in chinese
    assert english_words(described(english), option_words(parser()))  # the check finds words
    assert not english_words(described(chinese), option_words(parser()))
    # Chinese wraps by columns: no line wider than argparse's width (COLUMNS − 2)
    assert max(display_width(line) for line in chinese.splitlines()) <= 100


def test_argparse_speaks_chinese_only_inside_the_command_line(capsys: Any) -> None:
    import argparse

    from cnn_magic.cli import main

    for argv, first in (
        (["--flops", "xx"], "cnn-magic: error: argument --flops: invalid choice: 'xx'"),
        (["--lang", "zh", "--flops", "xx"], "cnn-magic：错误：参数 --flops：无效的取值：'xx'"),
        (["--lang", "zh", "--batch"], "cnn-magic：错误：参数 --batch：需要一个值"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1].startswith(first)
    assert getattr(argparse, "_") is gettext.gettext  # given back  # noqa: B009
    assert getattr(argparse, "ngettext") is gettext.ngettext  # noqa: B009


def test_the_magic_help_follows_the_session_language(shell: Any) -> None:
    from cnn_magic.layers import RULES
    from cnn_magic.magic import CnnMagic, magic_help

    shell.run_line_magic("load_ext", "cnn_magic")
    shown = shell.object_inspect_text("%%cnn")  # what %%cnn? prints
    english = magic_help()
    assert english.strip() in shown
    assert CnnMagic.cnn.__doc__.strip() in english  # the parser's own help, then the layers
    assert "\nlayers:\n  conv N k.. [s][p][d][g] (conv1d, conv2d, conv3d) — convolution" in english
    try:
        shell.run_line_magic("config", 'CnnMagic.lang = "zh"')
        shown = shell.object_inspect_text("%%cnn")
        chinese = magic_help()
    finally:
        shell.run_line_magic("config", 'CnnMagic.lang = "en"')
    assert chinese.strip() in shown
    assert "逐层给出 CNN 的特征图大小、参数量和浮点运算次数。" in chinese
    assert "选项:" in chinese and "\n层：\n" in chinese
    assert "  conv N k.. [s][p][d][g] (conv1d, conv2d, conv3d) — 卷积，N 个卷积核" in chinese
    kept = option_words(CnnMagic.cnn.parser) + " %%cnn %cnn CnnMagic config cnn net " + NETWORK
    kept += f" LANG Network {NAMES} "  # names, not English
    # the meanings quote usages and mode words; --quiz and --example take these words
    kept += " ".join(" ".join([rule.usage, *rule.words]) for rule in RULES.values())
    kept += " output weights biases params " + " ".join(cnn_magic.example_names())
    assert english_words(described(english), kept)
    assert not english_words(described(chinese), kept)


def test_every_layer_is_described_in_chinese_and_the_readme_stays_english() -> None:
    from cnn_magic.layers import RULES, help_lines, readme_table

    english_table, english_lines = readme_table(), help_lines()
    with language("zh"):
        assert readme_table() == english_table
        chinese_lines = help_lines()
    assert len(chinese_lines) == len(english_lines) >= 35
    for rule in RULES.values():
        with language("zh"):
            words = english_words(rule.describe(), " ".join([rule.usage, *rule.words, NAMES]))
        assert not words, (rule.name, rule.describe(), words)
    changed = sum(a != b for a, b in zip(english_lines, chinese_lines, strict=True))
    assert changed >= len(english_lines) - 2  # the formula-only meanings (flatten) stay


@pytest.mark.parametrize(
    ("text", "english", "chinese"),
    [
        (
            "input 8x8x12\nconv 8 k3 g3",
            "groups must divide both channel counts (12 and 8), e.g. 1, 2, 4",
            "分组数必须同时整除两个通道数（12 和 8），例如 1, 2, 4",
        ),
        (
            "input 8x8x12\ngroupnorm 5",
            "groupnorm G: G must divide the 12 channels, e.g. G = 1, 2, 3, 4, 6, 12",
            "groupnorm G：G 必须整除通道数 12，例如 G = 1, 2, 3, 4, 6, 12",
        ),
        (
            "input 8x8x12\nchannelshuffle 5",
            "channelshuffle G: G must divide the 12 channels, e.g. G = 1, 2, 3, 4, 6, 12",
            "channelshuffle G：G 必须整除通道数 12，例如 G = 1, 2, 3, 4, 6, 12",
        ),
        (
            "input 8x8x12\npixelshuffle 3",
            "pixelshuffle R: R² must divide the 12 channels, e.g. R = 1, 2",
            "pixelshuffle R：R² 必须整除通道数 12，例如 R = 1, 2",
        ),
        (
            "input 8x6x12\npixelunshuffle 4",
            "pixelunshuffle R: R must divide both the height 8 and the width 6, e.g. R = 1, 2",
            "pixelunshuffle R：R 必须同时整除高 8 和宽 6，例如 R = 1, 2",
        ),
    ],
)
def test_each_divisibility_check_has_its_own_hint(text: str, english: str, chinese: str) -> None:
    for lang, hint in (("en", english), ("zh", chinese)):
        with language(lang), pytest.raises(cnn_magic.CNNError) as error:
            cnn_magic.evaluate(text)
        assert error.value.hint == hint
    # each hint's values work: the first text's answers are accepted
    for fixed in (
        "input 8x8x12\nconv 8 k3 g4",
        "input 8x8x12\ngroupnorm 6",
        "input 8x8x12\nchannelshuffle 4",
        "input 8x8x12\npixelshuffle 2",
        "input 8x6x12\npixelunshuffle 2",
    ):
        cnn_magic.evaluate(fixed)


def test_the_tools_comparison_and_the_memory_speak_the_language_they_were_made_in() -> None:
    from cnn_magic.memory import _assumptions
    from cnn_magic.tools import TOOLS

    net = cnn_magic.example("lenet5")
    with language("zh"):
        tools, memory = net.compare_tools(), net.memory(batch=8, optimizer="adam")
    english_tools, english_memory = str(net.compare_tools()), str(net.memory(batch=8))
    chinese_tools, chinese_memory = str(tools), str(memory)  # shown after the block: still zh
    for entry in TOOLS.values():
        assert entry.counts in english_tools and entry.counts not in chinese_tools
    assert "作为基准" in chinese_tools and "可训练：61,706" in chinese_tools
    assert "作为基准" in tools._repr_html_() and "它计入什么" in tools._repr_html_()
    for line in _assumptions(True, "adam"):
        assert line not in chinese_memory
    assert "梯度" in chinese_memory and "批大小 8" in chinese_memory
    assert "gradients: one per trained parameter" in english_memory


def test_config_help_follows_the_session_language(shell: Any, capsys: Any) -> None:
    """``%config CnnMagic`` lists the options with their help, in the language in force."""
    shell.run_line_magic("load_ext", "cnn_magic")
    shell.run_line_magic("config", "CnnMagic")
    english = capsys.readouterr().out
    try:
        shell.run_line_magic("config", 'CnnMagic.lang = "zh"')
        shell.run_line_magic("config", "CnnMagic")
        chinese = capsys.readouterr().out
    finally:
        shell.run_line_magic("config", 'CnnMagic.lang = "en"')
    assert "Default rounding of output sizes" in english
    assert "CnnMagic.rounding=" in chinese and "输出大小的默认取整方式" in chinese
    assert "Default rounding of output sizes" not in chinese
    assert "显示静态表格，而不是交互控件。" in chinese


def test_a_chinese_markdown_table_lines_up_in_columns() -> None:
    """Every row of the Markdown table, the rule under the headers too, is as wide as
    the headers in terminal columns: the table reads as a table in the source."""
    with language("zh"):
        text = cnn_magic.example("lenet5").to_markdown()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert "浮点运算次数" in table[0]
    assert len({display_width(line) for line in table}) == 1, table[:2]
