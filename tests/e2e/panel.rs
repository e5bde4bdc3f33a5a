//! `buurtpeil panel select|replace` from files: the outputs, replacements
//! that keep the quotas, and clear errors (non-zero exit, nothing written)
//! for every kind of bad input.

use std::path::Path;
use std::process::{Command, Output};

const FEATURES: &str = "feature,value,min,max\ngender,f,3,3\ngender,m,3,3\nage,young,2,3\nage,old,3,4\n";

/// 40 volunteers: many old men, few young women.
fn volunteers() -> String {
    let mut csv = String::from("id,gender,age,name\n");
    for i in 0..40 {
        let (gender, age) = match i % 8 {
            0 => ("f", "young"),
            1 | 2 => ("f", "old"),
            3 => ("m", "young"),
            _ => ("m", "old"),
        };
        csv.push_str(&format!("v{i:02},{gender},{age},Naam {i}\n"));
    }
    csv
}

fn panel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buurtpeil")).arg("panel").args(args).env("RUST_LOG", "warn").output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn ids(csv: &str) -> Vec<String> {
    csv.lines().skip(1).map(|l| l.split(',').next().unwrap().to_owned()).collect()
}

#[test]
fn select_then_replace_keeps_the_quotas() {
    let dir = tempfile::tempdir().unwrap();
    let (people, features) = (dir.path().join("people.csv"), dir.path().join("features.csv"));
    std::fs::write(&people, volunteers()).unwrap();
    std::fs::write(&features, FEATURES).unwrap();
    let out_dir = dir.path().join("panel");
    let files = ["--people", p(&people), "--features", p(&features)];
    let out =
        panel(&[&["select"][..], &files, &["--size", "6", "--seed", "trekking 1 2 3", "--out", p(&out_dir)]].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("panel of 6"), "{}", text(&out));
    let members = ids(&std::fs::read_to_string(out_dir.join("panel.csv")).unwrap());
    assert_eq!(members.len(), 6);
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("protocol.json")).unwrap()).unwrap();
    assert_eq!(protocol["panel"].as_array().unwrap().len(), 6);
    assert!(!protocol["reserves"].as_array().unwrap().is_empty());

    // Two members drop out: the replacements come from the others, and the
    // new panel meets the quotas again.
    let dropped = format!("{},{}", members[0], members[5]);
    let again = dir.path().join("panel-r1");
    let out = panel(
        &[
            &["replace"][..],
            &files,
            &["--protocol", p(&out_dir.join("protocol.json")), "--dropped", &dropped],
            &["--seed", "vervanging 9", "--out", p(&again)],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let new_panel = std::fs::read_to_string(again.join("panel.csv")).unwrap();
    let new_members = ids(&new_panel);
    assert_eq!(new_members.len(), 6);
    assert!(!new_members.contains(&members[0]) && !new_members.contains(&members[5]));
    for kept in &members[1..5] {
        assert!(new_members.contains(kept), "remaining members stay: {kept}");
    }
    let count = |needle: &str| new_panel.lines().skip(1).filter(|l| l.contains(needle)).count();
    assert_eq!((count(",f,"), count(",m,")), (3, 3), "{new_panel}");
    let replacement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(again.join("protocol.json")).unwrap()).unwrap();
    assert_eq!(replacement["mode"], "replacement");
    assert_eq!(replacement["dropped"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_input_exits_with_a_clear_message_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good_people = dir.path().join("people.csv");
    std::fs::write(&good_people, volunteers()).unwrap();
    let good_features = dir.path().join("features.csv");
    std::fs::write(&good_features, FEATURES).unwrap();
    let write = |name: &str, content: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let cases: Vec<(std::path::PathBuf, std::path::PathBuf, &str, &str)> = vec![
        (dir.path().join("missing.csv"), good_features.clone(), "6", "missing.csv: cannot read the file"),
        (good_people.clone(), write("f1.csv", "feature,value,min,max\ngender,f,4,2\n"), "6", "f1.csv"),
        (good_people.clone(), write("f2.csv", "feature,value,min,max\ngender,f,zes,3\n"), "6", "f2.csv, line 2"),
        (good_people.clone(), write("f3.csv", "kenmerk,waarde\n"), "6", "f3.csv"),
        (write("p1.csv", "id,gender,age\nv1,x,young\n"), good_features.clone(), "6", "p1.csv, line 2, field 'gender'"),
        (write("p2.csv", "id,gender\nv1,f\n"), good_features.clone(), "6", "p2.csv"),
        (write("p3.csv", "id,gender,age\nv1,f,young\nv1,m,old\n"), good_features.clone(), "6", "p3.csv, line 3"),
        (write("p4.csv", "\u{0}\u{1}binary"), good_features.clone(), "6", "p4.csv"),
        // Quotas that cannot be met together: explained, not a failure.
        (
            good_people.clone(),
            write("f4.csv", "feature,value,min,max\ngender,f,6,6\ngender,m,0,0\nage,young,6,6\nage,old,0,0\n"),
            "6",
            "short by",
        ),
        (good_people.clone(), good_features.clone(), "0", "at least 1"),
        (good_people.clone(), good_features.clone(), "41", "41"),
    ];
    for (i, (people, features, size, message)) in cases.into_iter().enumerate() {
        let out_dir = dir.path().join(format!("out{i}"));
        let out = panel(&[
            "select",
            "--people",
            p(&people),
            "--features",
            p(&features),
            "--size",
            size,
            "--seed",
            "zaad",
            "--out",
            p(&out_dir),
        ]);
        let msg = text(&out);
        assert!(!out.status.success(), "case {i} should fail: {msg}");
        assert!(msg.contains(message), "case {i}: expected {message:?} in {msg}");
        assert!(!msg.contains("panicked"), "case {i}: {msg}");
        assert!(!out_dir.exists(), "case {i}: nothing written");
    }
    // Replacements: a non-member, a broken protocol.
    let out_dir = dir.path().join("ok");
    let files = ["--people", p(&good_people), "--features", p(&good_features)];
    let ok = panel(&[&["select"][..], &files, &["--size", "6", "--seed", "zaad", "--out", p(&out_dir)]].concat());
    assert!(ok.status.success(), "{}", text(&ok));
    let not_member = ids(&volunteers())
        .into_iter()
        .find(|id| !ids(&std::fs::read_to_string(out_dir.join("panel.csv")).unwrap()).contains(id))
        .unwrap();
    let broken = write("protocol.json", "{\"procedure\": 1}");
    for (protocol, dropped, message) in [
        (out_dir.join("protocol.json"), not_member.as_str(), "is not a member of the panel"),
        (out_dir.join("protocol.json"), "onbekend", "is not a member of the panel"),
        (broken, "v01", "is not a buurtpeil panel protocol"),
    ] {
        let target = dir.path().join("r");
        let out = panel(
            &[
                &["replace"][..],
                &files,
                &["--protocol", p(&protocol), "--dropped", dropped, "--seed", "zaad", "--out", p(&target)],
            ]
            .concat(),
        );
        let msg = text(&out);
        assert!(!out.status.success() && msg.contains(message), "{dropped}: {msg}");
        assert!(!target.exists());
    }
}
