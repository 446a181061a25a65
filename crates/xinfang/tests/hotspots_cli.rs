//! `xinfang hotspots` as an operator uses it: a small CSV in, the JSON out, bad lines
//! reported on stderr, the window and `--top` honoured.

use std::path::PathBuf;
use std::process::{Command, Output};

fn xinfang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xinfang"))
        .args(args)
        .env("XINFANG_LOG", "warn")
        .output()
        .expect("the xinfang binary runs")
}

fn fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hotspots.csv")
        .display()
        .to_string()
}

fn hotspots(o: &Output) -> Vec<serde_json::Value> {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {out}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("valid JSON");
    v["hotspots"].as_array().expect("a hotspots list").clone()
}

fn members(h: &serde_json::Value) -> Vec<String> {
    let mut m: Vec<String> = h["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    m.sort();
    m
}

#[test]
fn clusters_the_two_problems_and_reports_the_bad_line() {
    let f = fixture();
    let o = xinfang(&["hotspots", "--input", &f]);
    let hs = hotspots(&o);
    assert_eq!(hs.len(), 2, "{hs:?}");
    let noise = &hs[0];
    assert_eq!(members(noise), ["n1", "n2", "n3", "n4", "n5"]);
    assert_eq!(noise["size"], 5);
    assert_eq!(noise["first"], "2019-03-02 22:10:00");
    assert_eq!(noise["last"], "2019-03-29 08:00:00");
    assert!(noise["label"].as_str().unwrap().contains("搅拌站"), "{noise}");
    assert!(noise["heat"].as_f64().unwrap() > hs[1]["heat"].as_f64().unwrap());
    assert_eq!(members(&hs[1]), ["s1", "s2", "s3"]);
    let mut keys: Vec<&String> = noise.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["first", "heat", "label", "last", "members", "size"]);
    // The phone number in n1 is not a key word.
    assert!(!noise["label"].as_str().unwrap().contains("138"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("hotspots.csv:7"), "{err}");
}

#[test]
fn window_and_top_are_honoured() {
    let f = fixture();
    let hs = hotspots(&xinfang(&[
        "hotspots",
        "--input",
        &f,
        "--from",
        "2019-03-10",
        "--to",
        "2019-03-28",
    ]));
    assert_eq!(hs.len(), 1, "{hs:?}");
    assert_eq!(members(&hs[0]), ["n3", "n4"]);
    let hs = hotspots(&xinfang(&["hotspots", "--input", &f, "--top", "1"]));
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0]["size"], 5);
}

#[test]
fn bad_arguments_are_refused() {
    let f = fixture();
    let o = xinfang(&[
        "hotspots",
        "--input",
        &f,
        "--from",
        "2019-04-01",
        "--to",
        "2019-03-01",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--from"));
    let o = xinfang(&["hotspots", "--input", "/nonexistent/x.csv"]);
    assert!(!o.status.success());
}
