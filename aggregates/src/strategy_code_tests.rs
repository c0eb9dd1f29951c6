use super::*;
use crate::fixtures::SAMPLE_STRATEGY;
use crate::garbage;

fn problems(code: &str) -> Vec<(u32, u32, String)> {
    analyze(code)
        .problems
        .into_iter()
        .map(|p| (p.line, p.column, p.message))
        .collect()
}

/// Wraps a statement into a valid strategy module so only the statement is at fault.
fn strategy_with(extra: &str) -> String {
    format!(
        "from freqtrade.strategy import IStrategy\n\n\nclass S(IStrategy):\n    timeframe = \"5m\"\n\n{extra}"
    )
}

/// Line of `extra`'s first line inside [`strategy_with`].
const EXTRA_LINE: u32 = 7;

#[test]
fn sample_strategy_is_accepted() {
    let analysis = analyze(SAMPLE_STRATEGY);
    assert_eq!(analysis.problems, vec![]);
    assert_eq!(analysis.class_name.as_deref(), Some("RsiCross"));
    assert!(analysis.is_valid());

    let code = StrategyCode::parse(SAMPLE_STRATEGY).expect("valid strategy");
    assert_eq!(code.class_name(), "RsiCross");
    assert_eq!(code.code(), SAMPLE_STRATEGY);
    assert_eq!(code.sha256(), sha256_hex(SAMPLE_STRATEGY));
    assert_eq!(code.sha256().len(), 64);
}

#[test]
fn sha256_is_lowercase_hex_of_the_bytes() {
    assert_eq!(
        sha256_hex("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn debug_does_not_dump_the_code() {
    let code = StrategyCode::parse(SAMPLE_STRATEGY).expect("valid strategy");
    let debug = format!("{code:?}");
    assert!(debug.contains("RsiCross"));
    assert!(!debug.contains("populate_indicators"));
}

#[test]
fn base_given_as_attribute_counts() {
    let code = "import freqtrade.strategy as fs\n\nclass A(fs.IStrategy):\n    pass\n";
    assert_eq!(analyze(code).class_name.as_deref(), Some("A"));
    assert_eq!(analyze(code).problems, vec![]);
}

#[test]
fn syntax_error_reports_line_and_column() {
    let code = "from freqtrade.strategy import IStrategy\n\nclass A(IStrategy):\n    x = (1 +\n    def f(self):\n        pass\n";
    let found = problems(code);
    assert_eq!(found.len(), 1, "{found:?}");
    let (line, column, message) = &found[0];
    assert_eq!((*line, *column), (5, 5));
    assert!(message.starts_with("syntax error"), "{message}");

    let error = StrategyCode::parse(code).unwrap_err();
    let DomainError::Invalid { field, reason } = error else {
        panic!("expected Invalid");
    };
    assert_eq!(field, "code");
    assert!(
        reason.starts_with("line 5, column 5: syntax error"),
        "{reason}"
    );
}

#[test]
fn syntax_error_column_counts_characters_not_bytes() {
    // "é" is two bytes but one column: both lines report the same position.
    let ascii = problems("class A(IStrategy):\n    e = 1 2\n");
    let unicode = problems("class A(IStrategy):\n    é = 1 2\n");
    assert_eq!(ascii.len(), 1, "{ascii:?}");
    assert_eq!((ascii[0].0, ascii[0].1), (2, 11));
    assert_eq!((unicode[0].0, unicode[0].1), (2, 11));
}

#[test]
fn no_strategy_class_is_a_problem() {
    let found = problems("import math\n\nclass Helper:\n    pass\n");
    assert_eq!(
        found,
        vec![(
            1,
            1,
            "no class deriving from IStrategy; freqtrade needs exactly one".to_owned()
        )]
    );
    let error = StrategyCode::parse("x = 1\n").unwrap_err();
    assert_eq!(
        error,
        DomainError::invalid(
            "code",
            "line 1, column 1: no class deriving from IStrategy; freqtrade needs exactly one"
        )
    );
}

#[test]
fn two_strategy_classes_are_a_problem() {
    let code = "from freqtrade.strategy import IStrategy\n\nclass A(IStrategy):\n    pass\n\nclass B(IStrategy):\n    pass\n";
    let analysis = analyze(code);
    assert_eq!(analysis.class_name, None);
    assert_eq!(analysis.problems.len(), 1);
    let problem = &analysis.problems[0];
    assert_eq!((problem.line, problem.column), (6, 1));
    assert!(problem.message.contains("2 classes"), "{}", problem.message);
    assert!(
        problem.message.contains("A (line 3), B (line 6)"),
        "{}",
        problem.message
    );
}

#[test]
fn nested_strategy_class_does_not_count() {
    let code = "from freqtrade.strategy import IStrategy\n\nclass A(IStrategy):\n    class Inner(IStrategy):\n        pass\n";
    let analysis = analyze(code);
    assert_eq!(analysis.class_name.as_deref(), Some("A"));
    assert_eq!(analysis.problems, vec![]);
}

#[test]
fn empty_and_blank_code_are_problems() {
    for code in ["", "   \n\t\n"] {
        assert_eq!(problems(code), vec![(1, 1, "code is empty".to_owned())]);
    }
}

#[test]
fn code_over_one_mib_is_a_problem() {
    let code = format!("{}\n", "#".repeat(MAX_CODE_BYTES));
    let found = problems(&code);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].2.contains("at most 1048576 bytes"),
        "{}",
        found[0].2
    );
}

#[test]
fn each_forbidden_call_is_reported_at_its_line() {
    let cases = [
        ("exec('x = 1')", "exec"),
        ("eval('1 + 1')", "eval"),
        ("compile('1', 'f', 'eval')", "compile"),
        ("__import__('os')", "__import__"),
        ("os.system('ls')", "os.system"),
        ("subprocess.run(['ls'])", "subprocess.run"),
        ("subprocess.Popen('ls')", "subprocess.Popen"),
        ("subprocess.check_output('ls')", "subprocess.check_output"),
        ("builtins.eval('1')", "builtins.eval"),
    ];
    for (call, name) in cases {
        let code = strategy_with(&format!("x = 1\n{call}\n"));
        assert_eq!(
            problems(&code),
            vec![(
                EXTRA_LINE + 1,
                1,
                format!("call to {name}() is not allowed")
            )],
            "{call}"
        );
    }
}

#[test]
fn forbidden_calls_are_found_wherever_they_hide() {
    let cases = [
        // (code after the class header, line offset of the call, column)
        ("def f():\n    def g():\n        eval('1')\n", 2, 9),
        ("f = lambda: eval('1')\n", 0, 13),
        ("xs = [eval(s) for s in ['1']]\n", 0, 7),
        ("xs = [s for s in ['1'] if eval(s)]\n", 0, 27),
        ("xs = {k: v for k, v in eval('{}').items()}\n", 0, 24),
        ("g = (x for x in [eval('1')])\n", 0, 18),
        ("@decorate(eval('1'))\ndef f():\n    pass\n", 0, 11),
        ("def f(x=eval('1')):\n    pass\n", 0, 9),
        ("def f(*, x=eval('1')):\n    pass\n", 0, 12),
        ("def f(x: eval('int')):\n    pass\n", 0, 10),
        ("def f() -> eval('int'):\n    pass\n", 0, 12),
        ("f(key=eval('1'))\n", 0, 7),
        ("with open(eval('p')) as fh:\n    pass\n", 0, 11),
        ("match x:\n    case 1 if eval('1'):\n        pass\n", 1, 15),
        ("match x:\n    case 1:\n        eval('1')\n", 2, 9),
        ("try:\n    pass\nexcept eval('E'):\n    pass\n", 2, 8),
        ("try:\n    pass\nfinally:\n    eval('1')\n", 3, 5),
        ("x = f'{eval(\"1\")}'\n", 0, 8),
        ("class Inner:\n    y = eval('1')\n", 1, 9),
        ("async def f():\n    await eval('1')\n", 1, 11),
        ("x = [1][eval('0')]\n", 0, 9),
        ("x = eval('1') if True else 0\n", 0, 5),
        ("assert eval('1'), 'msg'\n", 0, 8),
        ("while eval('0'):\n    pass\n", 0, 7),
        ("for i in range(1):\n    pass\nelse:\n    eval('1')\n", 3, 5),
        ("if (y := eval('1')):\n    pass\n", 0, 10),
        ("x = {'a': 1, **eval('{}')}\n", 0, 16),
        ("raise eval('E')\n", 0, 7),
        ("del x[eval('0')]\n", 0, 7),
        ("x += eval('1')\n", 0, 6),
        ("x: int = eval('1')\n", 0, 10),
        ("f(*eval('[]'))\n", 0, 4),
        ("x = eval('1').real\n", 0, 5),
        ("x = [1][eval('0'):]\n", 0, 9),
    ];
    for (extra, line_offset, column) in cases {
        let code = strategy_with(extra);
        assert_eq!(
            problems(&code),
            vec![(
                EXTRA_LINE + line_offset,
                column,
                "call to eval() is not allowed".to_owned()
            )],
            "{extra}"
        );
    }
}

#[test]
fn forbidden_calls_inside_the_strategy_class_are_found() {
    let code = "from freqtrade.strategy import IStrategy\n\nclass A(IStrategy):\n    def populate_indicators(self, dataframe, metadata):\n        os.system('rm -rf /')\n        return dataframe\n";
    assert_eq!(
        problems(code),
        vec![(5, 9, "call to os.system() is not allowed".to_owned())]
    );
}

#[test]
fn harmless_lookalikes_are_accepted() {
    let code = strategy_with(
        "import re\npattern = re.compile('x')\ny = dataframe.eval('a + b')\nz = os.path.join('a', 'b')\nevaluate = 1\n",
    );
    assert_eq!(problems(&code), vec![]);
}

#[test]
fn subprocess_and_os_system_imports_are_rejected() {
    let cases = [
        (
            "import subprocess\n",
            "import of subprocess is not allowed (it runs shell commands)",
        ),
        (
            "import json, subprocess as sp\n",
            "import of subprocess is not allowed (it runs shell commands)",
        ),
        (
            "from subprocess import run\n",
            "import from subprocess is not allowed (it runs shell commands)",
        ),
        (
            "from os import system\n",
            "from os import system is not allowed (os.system runs shell commands)",
        ),
        (
            "from os import path, system as s\n",
            "from os import system is not allowed (os.system runs shell commands)",
        ),
        (
            "from os import *\n",
            "from os import * is not allowed (os.system runs shell commands)",
        ),
        (
            "def f():\n    import subprocess\n",
            "import of subprocess is not allowed (it runs shell commands)",
        ),
    ];
    for (extra, message) in cases {
        let code = strategy_with(extra);
        let found = problems(&code);
        assert_eq!(found.len(), 1, "{extra}: {found:?}");
        assert_eq!(found[0].2, message, "{extra}");
    }
    assert_eq!(
        problems(&strategy_with("import os\nfrom os import path\n")),
        vec![]
    );
}

#[test]
fn all_problems_are_listed_in_source_order_and_the_first_is_the_error() {
    let code = strategy_with("b = eval('2')\na = exec('1')\n");
    let found = problems(&code);
    assert_eq!(
        found,
        vec![
            (EXTRA_LINE, 5, "call to eval() is not allowed".to_owned()),
            (
                EXTRA_LINE + 1,
                5,
                "call to exec() is not allowed".to_owned()
            ),
        ]
    );
    assert_eq!(
        StrategyCode::parse(&code).unwrap_err(),
        DomainError::invalid(
            "code",
            "line 7, column 5: call to eval() is not allowed (and 1 more problem)"
        )
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let brackets = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let found = problems(&brackets);
    assert_eq!(found.len(), 1);
    assert!(found[0].2.contains("nested more than"), "{}", found[0].2);
    assert_eq!((found[0].0, found[0].1), (1, 205));

    for chain in ["1+", "a.", "f()", "x[0]", "not ", "-"] {
        for tail in ["1\n", "1 +\n"] {
            let code = format!("x = {}{tail}", chain.repeat(200_000));
            let found = problems(&code);
            assert_eq!(found.len(), 1, "{chain}");
            assert!(
                found[0].2.contains("too complex"),
                "{chain}: {}",
                found[0].2
            );
        }
    }
}

#[test]
fn long_but_flat_code_is_fine() {
    // A long operator chain under the limit parses and is walked without recursion.
    let chain = strategy_with(&format!("x = {}1\n", "1+".repeat(4_000)));
    assert_eq!(problems(&chain), vec![]);
    // A big flat literal is not "complex".
    let pairs: Vec<String> = (0..20_000)
        .map(|i| format!("(\"P{i}/USDT\", {i})"))
        .collect();
    let table = strategy_with(&format!("pairs = [{}]\n", pairs.join(", ")));
    assert_eq!(problems(&table), vec![]);
    // Many statements each under the limit.
    let many = strategy_with(&"x = a.b.c + d.e.f\n".repeat(20_000));
    assert_eq!(problems(&many), vec![]);
}

#[test]
fn carriage_returns_end_lines() {
    let code = "class A(IStrategy):\r\n    pass\r\neval('1')\r\n";
    assert_eq!(
        problems(code),
        vec![(3, 1, "call to eval() is not allowed".to_owned())]
    );
}

#[test]
fn garbage_never_panics() {
    for input in garbage::strings(400) {
        let analysis = analyze(&input);
        if analysis.problems.is_empty() {
            assert!(analysis.class_name.is_some(), "{input:?}");
        }
        let _ = StrategyCode::parse(&input);
    }
    // Mutations of a real strategy: truncated, with bytes swapped.
    for input in garbage::mutations(SAMPLE_STRATEGY, 200) {
        let _ = analyze(&input);
    }
}
