//! `xinfang model` as an operator uses it: train on a small labelled CSV, evaluate on another,
//! try one text, read the header, cross-validate, and see bad lines reported.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xinfang(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xinfang"))
        .args(args)
        .current_dir(dir)
        .env("XINFANG_LOG", "warn")
        .output()
        .expect("the xinfang binary runs")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn json_line(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {out}");
    serde_json::from_str(lines[0]).expect("valid JSON")
}

const LABELS: [&str; 7] = [
    "交通运输",
    "劳动和社会保障",
    "卫生计生",
    "商贸旅游",
    "城乡建设",
    "教育文体",
    "环境保护",
];

fn check_report(r: &serde_json::Value, n: u64) {
    assert_eq!(r["n"], n);
    for key in ["accuracy", "macro_f1", "ece"] {
        let v = r[key].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&v), "{key} = {v}");
    }
    for l in LABELS {
        assert!(r["per_label"][l].is_number(), "per_label has {l}: {r}");
    }
    for q in ["0.5", "0.8", "0.9"] {
        assert!(r["accuracy_at_coverage"][q].is_number(), "coverage {q}: {r}");
    }
}

#[test]
fn train_eval_predict_info_cv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = d.join("routing.model");
    let model_s = model.display().to_string();

    let train = json_line(&xinfang(
        d,
        &[
            "model",
            "train",
            "--input",
            &fixture("routing_train.csv"),
            "--out",
            &model_s,
        ],
    ));
    assert_eq!(train["n"], 245);
    assert_eq!(train["labels"].as_array().map(Vec::len), Some(7));
    assert!(train["bytes"].as_u64().unwrap_or(0) > 1000);
    check_report(&train["cv"], 245);

    let eval = json_line(&xinfang(
        d,
        &[
            "model",
            "eval",
            "--model",
            &model_s,
            "--input",
            &fixture("routing_eval.csv"),
        ],
    ));
    check_report(&eval, 70);
    // 35 examples per label is little, yet far better than chance (1/7).
    assert!(eval["accuracy"].as_f64().unwrap_or(0.0) > 0.5, "{eval}");

    let p = json_line(&xinfang(
        d,
        &[
            "model",
            "predict",
            "--model",
            &model_s,
            "孩子在学校被老师体罚，学校收取补课费，家长反映多次无果。联系电话13812345678",
        ],
    ));
    let top = p["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0]["label"], "教育文体", "{p}");
    let words = p["words"].as_array().unwrap();
    assert!(!words.is_empty());
    assert!(
        words
            .iter()
            .all(|w| !w["text"].as_str().unwrap_or("").contains("138"))
    );

    let info = json_line(&xinfang(d, &["model", "info", "--model", &model_s]));
    assert_eq!(info["n_train"], 245);
    assert_eq!(info["format"], 1);

    let cv = json_line(&xinfang(
        d,
        &[
            "model",
            "cv",
            "--input",
            &fixture("routing_eval.csv"),
            "--folds",
            "2",
        ],
    ));
    check_report(&cv, 70);
}

#[test]
fn bad_rows_are_reported_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = std::fs::read_to_string(fixture("routing_eval.csv")).unwrap();
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    lines.insert(3, "99,u,只有五列,2020-01-01,没有标签".into());
    lines.insert(5, "98,u,,,,交通运输".into());
    let bad = d.join("bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let model = d.join("m");
    let out = xinfang(
        d,
        &[
            "model",
            "train",
            "--input",
            &bad.display().to_string(),
            "--out",
            &model.display().to_string(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("bad.csv:4:"), "{stderr}");
    assert!(stderr.contains("bad.csv:6:"), "{stderr}");

    let missing = xinfang(
        d,
        &[
            "model",
            "eval",
            "--model",
            "nope.model",
            "--input",
            &fixture("routing_eval.csv"),
        ],
    );
    assert!(!missing.status.success());
    let garbage = d.join("garbage.model");
    std::fs::write(&garbage, b"not a model").unwrap();
    let out = xinfang(
        d,
        &[
            "model",
            "eval",
            "--model",
            &garbage.display().to_string(),
            "--input",
            &fixture("routing_eval.csv"),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a xinfang routing model"));
}

#[test]
fn a_dictionary_is_trained_into_the_model_and_a_bad_one_trains_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dict = d.join("words.txt");
    std::fs::write(&dict, "# 本单位用词\n出租车调度站 1000 n\n").unwrap();
    let model = d.join("m");
    let train = |dictionary: &Path| {
        xinfang(
            d,
            &[
                "model",
                "train",
                "--input",
                &fixture("routing_train.csv"),
                "--out",
                &model.display().to_string(),
                "--dictionary",
                &dictionary.display().to_string(),
            ],
        )
    };
    json_line(&train(&dict));
    let info = json_line(&xinfang(
        d,
        &["model", "info", "--model", &model.display().to_string()],
    ));
    assert!(
        info.to_string().contains("出租车调度站"),
        "the model keeps the dictionary it was trained with: {info}"
    );

    let bad = d.join("bad.txt");
    std::fs::write(&bad, "好词\n坏 词 x y\n").unwrap();
    std::fs::remove_file(&model).unwrap();
    let out = train(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("bad.txt") && stderr.contains("1 bad line"),
        "{stderr}"
    );
    assert!(!model.exists(), "nothing written");
}
