use proptest::prelude::*;
use serde_json::json;

use super::*;

type Grid<'a> = &'a [&'a [&'a str]];

const SETTINGS_OK: Grid = &[&["form_id", "form_title::nl", "form_title::en"], &["buurt", "Buurt", "Neighbourhood"]];

const CHOICES_OK: Grid = &[
    &["list_name", "name", "label::nl", "label::en"],
    &["ja_nee", "yes", "Ja", "Yes"],
    &["ja_nee", "no", "Nee", "No"],
    &["woon", "huur", "Ik huur", "I rent"],
    &["woon", "koop", "Het is van mij", "I own it"],
    &["vervoer", "fiets", "Fiets", "Bike"],
    &["vervoer", "auto", "Auto", "Car"],
    &["vervoer", "ov", "Bus of trein", "Bus or train"],
];

const HEAD: &[&str] = &["type", "name", "label::nl", "label::en", "required", "relevant", "constraint"];

fn workbook(survey: Grid, choices: Option<Grid>, settings: Option<Grid>) -> Workbook {
    Workbook {
        survey: Some(RawSheet::from_grid(survey)),
        choices: choices.map(RawSheet::from_grid),
        settings: settings.map(RawSheet::from_grid),
    }
}

/// Converts sheets given as grids; errors as their display lines.
fn run(survey: Grid, choices: Option<Grid>, settings: Option<Grid>) -> Result<Value, Vec<String>> {
    let mut errors = Errors::default();
    let value = convert(&workbook(survey, choices, settings), &mut errors);
    match value {
        Some(value) if errors.0.is_empty() => Ok(value),
        _ => Err(errors.sorted().iter().map(|e| e.to_string()).collect()),
    }
}

/// The survey with the standard choices and settings.
fn survey(rows: Grid) -> Result<Value, Vec<String>> {
    run(rows, Some(CHOICES_OK), Some(SETTINGS_OK))
}

/// The pages of a survey that must convert.
fn pages(rows: Grid) -> Value {
    match survey(rows) {
        Ok(value) => value["pages"].clone(),
        Err(errors) => panic!("unexpected errors:\n{}", errors.join("\n")),
    }
}

/// The only question of a one-question survey.
fn question(row: &[&str]) -> Value {
    question_with(HEAD, row)
}

fn question_with(head: &[&str], row: &[&str]) -> Value {
    let pages = pages(&[head, row]);
    assert_eq!(pages.as_array().unwrap().len(), 1);
    pages[0]["questions"][0].clone()
}

/// The errors of a survey that must not convert.
fn errors(rows: Grid) -> Vec<String> {
    match survey(rows) {
        Ok(value) => panic!("expected errors, got {value:#}"),
        Err(errors) => errors,
    }
}

fn assert_error(rows: Grid, expected: &str) {
    let errors = errors(rows);
    assert!(errors.iter().any(|e| e == expected), "expected {expected:?} in\n{}", errors.join("\n"));
}

// --- types ----------------------------------------------------------------------

#[test]
fn integer_becomes_number_with_range_from_constraint() {
    let q = question(&["integer", "leeftijd", "Leeftijd?", "Age?", "yes", "", ". >= 16 and . <= 120"]);
    assert_eq!(
        q,
        json!({ "id": "leeftijd", "type": "number", "text": { "nl": "Leeftijd?", "en": "Age?" },
                "required": true, "min": 16, "max": 120 })
    );
}

#[test]
fn integer_constraint_forms() {
    for (constraint, min, max) in [
        (". > 0 and . < 100", 1, 99),
        ("0 <= . and 120 >= .", 0, 120),
        ("(. >= 1) and (. <= 5)", 1, 5),
        (". >= -10 and . <= 10", -10, 10),
        (". >= 0 and . <= 50 and . <= 40", 0, 40),
        (".>=1 and .<=7", 1, 7),
    ] {
        let q = question(&["integer", "n", "N", "N", "", "", constraint]);
        assert_eq!((q["min"].as_i64(), q["max"].as_i64()), (Some(min), Some(max)), "{constraint}");
    }
}

#[test]
fn integer_unit() {
    let head = &["type", "name", "label::nl", "label::en", "constraint", "unit::nl", "unit::en"];
    let q = question_with(head, &["integer", "jaren", "Hoe lang?", "How long?", ". >= 0 and . <= 99", "jaar", "years"]);
    assert_eq!(q["unit"], json!({ "nl": "jaar", "en": "years" }));
    assert_error(
        &[head, &["integer", "jaren", "Hoe lang?", "How long?", ". >= 0 and . <= 99", "jaar", ""]],
        "survey row 2, column unit::en: the English unit is missing",
    );
}

#[test]
fn integer_needs_both_bounds() {
    let message =
        "an integer question needs a smallest and a largest answer: add a constraint such as . >= 0 and . <= 120";
    assert_error(
        &[HEAD, &["integer", "n", "N", "N", "", "", ""]],
        &format!("survey row 2, column constraint: {message}"),
    );
    assert_error(
        &[HEAD, &["integer", "n", "N", "N", "", "", ". >= 0"]],
        &format!("survey row 2, column constraint: {message}"),
    );
    assert_error(
        &[HEAD, &["integer", "n", "N", "N", "", "", ". >= 10 and . <= 5"]],
        "survey row 2, column constraint: the constraint allows no number: the minimum 10 is above the maximum 5",
    );
}

#[test]
fn unsupported_constraints_are_errors() {
    for (constraint, detail) in [
        (". >= 1 or . <= 5", "or is not understood here"),
        (". != 3", "!= is not supported in a constraint"),
        ("string-length(.) <= 10", "the function string-length() is not supported"),
        (". >= 1.5", "1.5 is not a whole number"),
        ("${x} > 3", "${x} is not expected here"),
        (". * 2 < 10", "arithmetic (*) is not supported"),
    ] {
        let errors = errors(&[HEAD, &["integer", "n", "N", "N", "", "", constraint]]);
        assert!(
            errors.iter().any(|e| e.starts_with("survey row 2, column constraint: ") && e.contains(detail)),
            "{constraint}: {errors:?}"
        );
    }
}

#[test]
fn range_becomes_scale() {
    let head =
        &["type", "name", "label::nl", "label::en", "min_label::nl", "min_label::en", "max_label::nl", "max_label::en"];
    let q = question_with(head, &["range", "cijfer", "Cijfer?", "Mark?", "slecht", "bad", "goed", "good"]);
    assert_eq!(
        q,
        json!({ "id": "cijfer", "type": "scale", "text": { "nl": "Cijfer?", "en": "Mark?" }, "min": 0, "max": 10,
                "min_label": { "nl": "slecht", "en": "bad" }, "max_label": { "nl": "goed", "en": "good" } })
    );
}

#[test]
fn range_parameters_and_constraint() {
    let head = &[
        "type",
        "name",
        "label::nl",
        "label::en",
        "parameters",
        "constraint",
        "min_label::nl",
        "min_label::en",
        "max_label::nl",
        "max_label::en",
    ];
    for (parameters, constraint, min, max) in [
        ("start=1 end=5 step=1", "", 1, 5),
        ("start = 1; end = 7", "", 1, 7),
        ("end=5", "", 0, 5),
        ("start=0 end=10", ". >= 1", 1, 10),
        ("", ". <= 5", 0, 5),
    ] {
        let q = question_with(head, &["range", "r", "R", "R", parameters, constraint, "a", "a", "b", "b"]);
        assert_eq!((q["min"].as_i64(), q["max"].as_i64()), (Some(min), Some(max)), "{parameters} {constraint}");
    }
    for (parameters, message) in [
        ("start=0 end=10 step=2", "step is 2; buurtpeil supports only step=1"),
        ("start=0 end=10 step=0.5", "step is 0.5; buurtpeil supports only step=1"),
        ("start=a", "start is a; give a whole number"),
        ("start=5 end=1", "start (5) is above end (1)"),
        ("randomize=true", "the parameter randomize is not supported (a range takes start, end and step)"),
        ("start", "the parameters start are not understood: write start=0 end=10 step=1"),
    ] {
        assert_error(
            &[head, &["range", "r", "R", "R", parameters, "", "a", "a", "b", "b"]],
            &format!("survey row 2, column parameters: {message}"),
        );
    }
}

#[test]
fn range_needs_end_labels() {
    let errors = errors(&[HEAD, &["range", "r", "R", "R"]]);
    assert_eq!(
        errors,
        [
            "survey row 2, column min_label::nl: the Dutch min_label is missing",
            "survey row 2, column min_label::en: the English min_label is missing",
            "survey row 2, column max_label::nl: the Dutch max_label is missing",
            "survey row 2, column max_label::en: the English max_label is missing",
        ]
    );
}

#[test]
fn text_short_and_long() {
    let head = &["type", "name", "label::nl", "label::en", "appearance", "max_length"];
    let q = question_with(head, &["text", "motto", "Motto", "Motto", "", "80"]);
    assert_eq!(
        q,
        json!({ "id": "motto", "type": "short_text", "text": { "nl": "Motto", "en": "Motto" }, "max_length": 80 })
    );
    let q = question_with(head, &["text", "idee", "Idee", "Idea", "multiline", ""]);
    assert_eq!(q, json!({ "id": "idee", "type": "long_text", "text": { "nl": "Idee", "en": "Idea" } }));
    assert_error(
        &[head, &["text", "idee", "Idee", "Idea", "", "lang"]],
        "survey row 2, column max_length: max_length is lang; give a whole number above 0",
    );
}

#[test]
fn select_one_becomes_single_choice() {
    let q = question(&["select_one woon", "woon", "Wonen?", "Housing?"]);
    assert_eq!(
        q,
        json!({ "id": "woon", "type": "single_choice", "text": { "nl": "Wonen?", "en": "Housing?" },
                "options": [ { "value": "huur", "label": { "nl": "Ik huur", "en": "I rent" } },
                             { "value": "koop", "label": { "nl": "Het is van mij", "en": "I own it" } } ] })
    );
    let q = question(&["select one woon or_other", "woon", "Wonen?", "Housing?"]);
    assert_eq!((q["type"].as_str(), q["other"].as_bool()), (Some("single_choice"), Some(true)));
}

#[test]
fn yes_no_list_becomes_yes_no() {
    let q = question(&["select_one ja_nee", "kinderen", "Kinderen?", "Children?", "yes"]);
    assert_eq!(
        q,
        json!({ "id": "kinderen", "type": "yes_no", "text": { "nl": "Kinderen?", "en": "Children?" }, "required": true })
    );
    // with or_other, or as select_multiple, it stays a choice
    let q = question(&["select_one ja_nee or_other", "k", "K", "K"]);
    assert_eq!(q["type"], "single_choice");
    let q = question(&["select_multiple ja_nee", "k", "K", "K"]);
    assert_eq!(q["type"], "multiple_choice");
}

#[test]
fn select_multiple_becomes_multiple_choice() {
    let q = question(&[
        "select_multiple vervoer or_other",
        "vervoer",
        "Vervoer?",
        "Transport?",
        "",
        "",
        "count-selected(.) <= 2",
    ]);
    assert_eq!(q["type"], "multiple_choice");
    assert_eq!(q["other"], true);
    assert_eq!(q["max_choices"], 2);
    assert_eq!(q["options"].as_array().unwrap().len(), 3);
    assert_error(
        &[HEAD, &["select_multiple vervoer", "v", "V", "V", "", "", "count-selected(.) >= 1"]],
        "survey row 2, column constraint: only a largest number of choices is supported, as in count-selected(.) <= 3",
    );
    assert_error(
        &[HEAD, &["select_one woon", "w", "W", "W", "", "", ". != 'huur'"]],
        &format!("survey row 2, column constraint: a constraint on select_one is not supported: {CONSTRAINT_HELP}"),
    );
}

#[test]
fn select_errors() {
    assert_error(
        &[HEAD, &["select_one buurten", "b", "B", "B"]],
        "survey row 2, column type: the list buurten is not in the choices sheet (list_name is case-sensitive)",
    );
    assert_error(
        &[HEAD, &["select_one", "b", "B", "B"]],
        "survey row 2, column type: select_one needs the name of a list from the choices sheet, such as select_one woonsituatie",
    );
    assert_error(
        &[HEAD, &["select_one woon extra", "b", "B", "B"]],
        "survey row 2, column type: select_one takes a list name and optionally or_other; extra is not understood",
    );
    let no_choices = run(&[HEAD, &["select_one woon", "w", "W", "W"]], None, Some(SETTINGS_OK)).unwrap_err();
    assert_eq!(
        no_choices,
        ["survey row 2, column type: the list woon is not there: the workbook has no choices sheet"]
    );
    let one: Grid = &[&["list_name", "name", "label::nl", "label::en"], &["een", "a", "A", "A"]];
    let errors = run(&[HEAD, &["select_one een", "w", "W", "W"]], Some(one), Some(SETTINGS_OK)).unwrap_err();
    assert_eq!(errors, ["survey row 2, column type: the list een has only 1 option; a question needs at least 2"]);
}

#[test]
fn note_and_acknowledge() {
    let q = question(&["note", "welkom", "Welkom", "Welcome"]);
    assert_eq!(q, json!({ "id": "welkom", "type": "statement", "text": { "nl": "Welkom", "en": "Welcome" } }));
    let q = question(&["note", "welkom", "Welkom", "Welcome", "no"]);
    assert_eq!(q["type"], "statement");
    assert_error(
        &[HEAD, &["note", "welkom", "Welkom", "Welcome", "yes"]],
        "survey row 2, column required: a note has no answer, so it cannot be required",
    );
    let q = question(&["acknowledge", "akkoord", "Akkoord?", "Agree?", "TRUE()"]);
    assert_eq!(
        q,
        json!({ "id": "akkoord", "type": "consent", "text": { "nl": "Akkoord?", "en": "Agree?" }, "required": true })
    );
}

#[test]
fn required_values() {
    for (value, required) in [("yes", true), ("Yes", true), ("true", true), ("TRUE()", true), ("1", true)] {
        assert_eq!(question(&["text", "t", "T", "T", value])["required"].as_bool(), Some(required), "{value}");
    }
    for value in ["no", "false", "FALSE()", "0", ""] {
        assert!(question(&["text", "t", "T", "T", value]).get("required").is_none(), "{value}");
    }
    assert_error(
        &[HEAD, &["text", "t", "T", "T", "misschien"]],
        "survey row 2, column required: required is misschien; use yes or no (also true/false, true()/false(), 1/0)",
    );
}

#[test]
fn hint_becomes_help() {
    let head = &["type", "name", "label::nl", "label::en", "hint::nl", "hint::en"];
    let q = question_with(head, &["text", "t", "T", "T", "Uitleg", "Explanation"]);
    assert_eq!(q["help"], json!({ "nl": "Uitleg", "en": "Explanation" }));
    assert_error(
        &[head, &["text", "t", "T", "T", "Uitleg", ""]],
        "survey row 2, column hint::en: the English hint is missing",
    );
}

#[test]
fn metadata_rows_are_skipped_and_blank_rows_too() {
    let pages = pages(&[
        HEAD,
        &["start", "start"],
        &["end", "end"],
        &["today", "today"],
        &["deviceid", "deviceid"],
        &["username", "username"],
        &["audit", "audit"],
        &[],
        &["", "", "", ""],
        &["text", "t", "T", "T"],
    ]);
    assert_eq!(pages.as_array().unwrap().len(), 1);
    assert_eq!(pages[0]["questions"][0]["id"], "t");
}

#[test]
fn unsupported_types_are_errors() {
    for (t, name) in [
        ("decimal", "decimal"),
        ("date", "date"),
        ("geopoint", "geopoint"),
        ("image", "image"),
        ("calculate", "calculate"),
        ("begin_repeat", "begin_repeat"),
        ("begin repeat", "begin_repeat"),
        ("select_one_from_file buurten.csv", "select_one_from_file"),
        ("rank woon", "rank"),
    ] {
        assert_error(
            &[HEAD, &["text", "a", "A", "A"], &[t, "x", "X", "X"]],
            &format!(
                "survey row 3, column type: type {name} is not supported by buurtpeil (supported: {SUPPORTED_TYPES})"
            ),
        );
    }
    assert_error(&[HEAD, &["", "x", "X", "X"]], "survey row 2, column type: the row has no type");
}

// --- groups and pages -----------------------------------------------------------

#[test]
fn groups_become_pages_and_ungrouped_questions_get_their_own() {
    let head = &["type", "name", "label::nl", "label::en", "relevant", "appearance"];
    let pages = pages(&[
        head,
        &["select_one woon", "woon", "Wonen?", "Housing?"],
        &["text", "los", "Los", "Loose", "${woon} = 'huur'"],
        &["begin_group", "huur", "Uw huurhuis", "Your rented home", "${woon} = 'huur'", "field-list"],
        &["text", "verhuurder", "Verhuurder?", "Landlord?"],
        &["text", "buren", "Buren?", "Neighbours?", "selected(${woon}, 'huur')"],
        &["end_group"],
        &["begin group", "zonder_titel"],
        &["text", "x", "X", "X"],
        &["end group"],
    ]);
    assert_eq!(
        pages,
        json!([
            { "id": "woon", "questions": [ { "id": "woon", "type": "single_choice", "text": { "nl": "Wonen?", "en": "Housing?" },
                "options": [ { "value": "huur", "label": { "nl": "Ik huur", "en": "I rent" } },
                             { "value": "koop", "label": { "nl": "Het is van mij", "en": "I own it" } } ] } ] },
            { "id": "los", "show_if": "woon = \"huur\"",
              "questions": [ { "id": "los", "type": "short_text", "text": { "nl": "Los", "en": "Loose" } } ] },
            { "id": "huur", "title": { "nl": "Uw huurhuis", "en": "Your rented home" }, "show_if": "woon = \"huur\"",
              "questions": [
                { "id": "verhuurder", "type": "short_text", "text": { "nl": "Verhuurder?", "en": "Landlord?" } },
                { "id": "buren", "type": "short_text", "text": { "nl": "Buren?", "en": "Neighbours?" }, "show_if": "woon = \"huur\"" } ] },
            { "id": "zonder_titel", "questions": [ { "id": "x", "type": "short_text", "text": { "nl": "X", "en": "X" } } ] },
        ])
    );
}

#[test]
fn group_errors() {
    assert_error(
        &[HEAD, &["begin_group", "a"], &["begin_group", "b"], &["text", "t", "T", "T"], &["end_group"], &["end_group"]],
        "survey row 3, column type: a group inside a group is not supported: every group becomes one page",
    );
    assert_error(
        &[HEAD, &["begin_group", "a"], &["text", "t", "T", "T"]],
        "survey row 2: the group a has no end_group",
    );
    assert_error(
        &[HEAD, &["text", "t", "T", "T"], &["end_group"]],
        "survey row 3, column type: end_group without a begin_group before it",
    );
    assert_error(
        &[HEAD, &["begin_group", "a"], &["end_group"], &["text", "t", "T", "T"]],
        "survey row 2: the group a has no questions",
    );
    assert_error(
        &[HEAD, &["begin_group", "a", "A", ""], &["text", "t", "T", "T"], &["end_group"]],
        "survey row 2, column label::en: the English label is missing",
    );
    assert_error(
        &[HEAD, &["begin_group", "a", "", "", "yes"], &["text", "t", "T", "T"], &["end_group"]],
        "survey row 2, column required: required is not used on a group: leave it empty",
    );
    assert_error(
        &[&["type", "name", "appearance"], &["begin_group", "a", "table-list"], &["text", "t"], &["end_group"]],
        "survey row 2, column appearance: the appearance table-list is not supported on a group (a group is always one page, as with field-list)",
    );
    assert_error(
        &[HEAD, &["begin_group", "t"], &["text", "x", "X", "X"], &["end_group"], &["text", "t", "T", "T"]],
        "survey row 5, column name: a question outside a group gets a page named after it, and the group in row 2 already has the name t: rename one of them",
    );
}

#[test]
fn names_are_checked() {
    assert_error(
        &[HEAD, &["text", "Leeftijd", "L", "L"]],
        "survey row 2, column name: the name Leeftijd is not allowed: use lower-case letters, digits and _, starting with a letter, at most 64",
    );
    assert_error(&[HEAD, &["text", "", "L", "L"]], "survey row 2, column name: the name is empty");
    assert_error(
        &[HEAD, &["text", "a", "A", "A"], &["text", "a", "B", "B"]],
        "survey row 3, column name: the name a is already used in row 2",
    );
}

// --- columns ----------------------------------------------------------------------

#[test]
fn headers_are_matched_case_insensitively_and_with_language_names() {
    let head = &[" Type ", "NAME", "label::Dutch (nl)", "Label::English (en)", "hint::Nederlands (nl)", "hint::en"];
    let q = question_with(head, &["text", "t", "Vraag", "Question", "Hulp", "Help"]);
    assert_eq!(q["text"], json!({ "nl": "Vraag", "en": "Question" }));
    assert_eq!(q["help"], json!({ "nl": "Hulp", "en": "Help" }));
}

#[test]
fn unknown_and_untranslated_columns_are_errors_per_row() {
    let head = &["type", "name", "label::nl", "label::en", "default", "label", "label::French (fr)", "calculation"];
    let errors = errors(&[
        head,
        &["text", "a", "A", "A", "x"],
        &["text", "b", "B", "B", "", "B", "Bé"],
        &["text", "c", "C", "C"],
    ]);
    assert_eq!(
        errors,
        [
            "survey row 2, column default: the column default is not supported by buurtpeil: remove it or leave it empty",
            "survey row 3, column label: give label::nl and label::en instead of label: buurtpeil needs every text in Dutch and English",
            "survey row 3, column label::French (fr): the language French (fr) is not supported: buurtpeil uses Dutch (label::nl) and English (label::en)",
        ]
    );
}

#[test]
fn missing_translation_is_an_error() {
    let errors = errors(&[HEAD, &["text", "a", "Vraag", ""], &["text", "b", "", ""]]);
    assert_eq!(
        errors,
        [
            "survey row 2, column label::en: the English label is missing",
            "survey row 3, column label::nl: the Dutch label is missing",
            "survey row 3, column label::en: the English label is missing",
        ]
    );
}

#[test]
fn columns_a_type_does_not_use_are_errors() {
    let head = &["type", "name", "label::nl", "label::en", "appearance", "parameters", "max_length", "unit::nl"];
    assert_eq!(
        errors(&[head, &["integer", "n", "N", "N", "minimal", "start=1", "5", "jaar"]])[..3],
        [
            "survey row 2, column appearance: the appearance minimal is not supported on integer (buurtpeil supports multiline on text and field-list on groups)",
            "survey row 2, column parameters: parameters is not used for type integer: leave it empty",
            "survey row 2, column max_length: max_length is not used for type integer: leave it empty",
        ]
    );
    assert_error(
        &[HEAD, &["text", "t", "T", "T", "", "", ". > 3"]],
        &format!("survey row 2, column constraint: a constraint on text is not supported: {CONSTRAINT_HELP}"),
    );
}

#[test]
fn ignored_columns_change_nothing() {
    let head = &["type", "name", "label::nl", "label::en", "constraint", "constraint_message", "required_message::nl"];
    let q = question_with(head, &["integer", "n", "N", "N", ". >= 0 and . <= 9", "Te groot", "Verplicht"]);
    assert_eq!(q, question_with(&head[..5], &["integer", "n", "N", "N", ". >= 0 and . <= 9"]));
}

#[test]
fn kobo_bookkeeping_columns_are_ignored() {
    let head = &["type", "name", "label::nl", "label::en", "$kuid", "$autoname"];
    let q = question_with(head, &["select_one woon", "woon", "W", "W", "abc123", "woon"]);
    assert_eq!(q, question_with(&head[..4], &["select_one woon", "woon", "W", "W"]));
    let choices: Grid = &[
        &["list_name", "name", "label::nl", "label::en", "$kuid", "$autovalue"],
        &["l", "a", "A", "A", "k1", "a"],
        &["l", "b", "B", "B", "k2", "b"],
    ];
    assert!(run(&[HEAD, &["select_one l", "q", "Q", "Q"]], Some(choices), Some(SETTINGS_OK)).is_ok());
}

#[test]
fn cells_without_header_and_duplicate_headers_are_errors() {
    let errors =
        errors(&[&["type", "name", "label::nl", "label::en", "label::Dutch (nl)"], &["text", "a", "A", "A", "", "x"]]);
    assert_eq!(
        errors,
        [
            "survey row 1, column label::Dutch (nl): this column means the same as column label::nl",
            "survey row 2, column F: this cell has a value but its column has no name in row 1",
        ]
    );
}

#[test]
fn labels_may_not_pipe_earlier_answers() {
    assert_error(
        &[HEAD, &["text", "a", "A", "A"], &["text", "b", "Hallo ${a}", "Hello ${a}"]],
        "survey row 3, column label::nl: buurtpeil does not show earlier answers in a text: remove the ${…} reference",
    );
}

// --- choices ------------------------------------------------------------------------

#[test]
fn choice_errors() {
    let choices: Grid = &[
        &["list name", "name", "label::nl", "label::en", "filter"],
        &["l", "a", "A", "A"],
        &["l", "a", "A2", "A2"],
        &["l", "Hoog", "H", "H"],
        &["l", "other", "O", "O"],
        &["l", "b", "B", ""],
        &["", "c", "C", "C"],
        &["l", "d", "D", "D", "x"],
    ];
    let errors = run(&[HEAD, &["select_one l", "q", "Q", "Q"]], Some(choices), Some(SETTINGS_OK)).unwrap_err();
    assert_eq!(
        errors,
        [
            "choices row 3, column name: the value a appears twice in the list l (also in row 2)",
            "choices row 4, column name: the value Hoog is not allowed: use lower-case letters, digits and _, starting with a letter, at most 64",
            "choices row 5, column name: the value other is reserved for or_other: give this option another value",
            "choices row 6, column label::en: the English label is missing",
            "choices row 7, column list_name: list_name is empty",
            "choices row 8, column filter: the column filter is not supported by buurtpeil: remove it or leave it empty",
        ]
    );
}

#[test]
fn choice_headers_accept_language_names() {
    let choices: Grid = &[
        &["list_name", "name", "label::Nederlands (nl)", "label::English (en)"],
        &["l", "a", "A", "A"],
        &["l", "b", "B", "Bee"],
    ];
    let value = run(&[HEAD, &["select_one l", "q", "Q", "Q"]], Some(choices), Some(SETTINGS_OK)).unwrap();
    assert_eq!(
        value["pages"][0]["questions"][0]["options"][1],
        json!({ "value": "b", "label": { "nl": "B", "en": "Bee" } })
    );
}

// --- settings -----------------------------------------------------------------------

fn settings_of(settings: Option<Grid>) -> Result<Value, Vec<String>> {
    run(&[HEAD, &["text", "t", "T", "T"]], None, settings)
}

#[test]
fn settings_become_the_questionnaire_header() {
    let settings: Grid = &[
        &[
            "form_id",
            "title::nl",
            "title::en",
            "kind",
            "purpose::nl",
            "purpose::en",
            "intro::nl",
            "intro::en",
            "version",
            "default_language",
            "style",
            "instance_name",
        ],
        &[
            "talentscan",
            "Talent",
            "Talent",
            "identified",
            "Waarom",
            "Why",
            "Hallo",
            "Hello",
            "2024010101",
            "nl",
            "pages",
            "x",
        ],
    ];
    let value = settings_of(Some(settings)).unwrap();
    assert_eq!(value["slug"], "talentscan");
    assert_eq!(value["kind"], "identified");
    assert_eq!(value["title"], json!({ "nl": "Talent", "en": "Talent" }));
    assert_eq!(value["purpose"], json!({ "nl": "Waarom", "en": "Why" }));
    assert_eq!(value["intro"], json!({ "nl": "Hallo", "en": "Hello" }));

    let plain = settings_of(Some(&[&["form_id", "form_title"], &["buurt", "Buurtpeil"]])).unwrap();
    assert_eq!(plain["title"], json!({ "nl": "Buurtpeil", "en": "Buurtpeil" }));
    assert_eq!(plain["kind"], "anonymous");
    assert!(plain.get("intro").is_none() && plain.get("purpose").is_none());
}

#[test]
fn settings_errors() {
    assert_eq!(
        settings_of(None).unwrap_err(),
        [format!("settings: the workbook has no settings sheet: {SETTINGS_NEEDED}")]
    );
    assert_eq!(
        settings_of(Some(&[&["form_id", "form_title", "kind"], &["Buurt_1", "B", "open"]])).unwrap_err(),
        [
            "settings row 2, column form_id: the form_id Buurt_1 cannot be a slug: use lower-case letters, digits and -, starting with a letter, at most 64",
            "settings row 2, column kind: the kind open does not exist: use anonymous or identified",
        ]
    );
    assert_eq!(
        settings_of(Some(&[&["form_title", "kind", "public_key"], &["B", "identified", "k"]])).unwrap_err(),
        [
            "settings row 2, column public_key: the column public_key is not supported by buurtpeil: remove it or leave it empty",
            "settings row 2, column form_id: form_id is missing: it becomes the questionnaire's slug",
            "settings row 2, column purpose::nl: the Dutch purpose is missing",
            "settings row 2, column purpose::en: the English purpose is missing",
        ]
    );
    assert_eq!(
        settings_of(Some(&[&["form_id", "form_title::nl"], &["b", "B"]])).unwrap_err(),
        ["settings row 2, column form_title::en: the English title is missing"]
    );
    assert_eq!(
        settings_of(Some(&[&["form_id"], &["b"], &["c"]])).unwrap_err(),
        [
            "settings row 2, column form_title::nl: the title is missing: give form_title::nl and form_title::en",
            "settings row 3: the settings are read from row 2 only; this row is not used",
        ]
    );
}

#[test]
fn missing_survey_sheet() {
    let mut errors = Errors::default();
    let wb = Workbook { survey: None, choices: None, settings: Some(RawSheet::from_grid(SETTINGS_OK)) };
    convert(&wb, &mut errors);
    assert_eq!(
        errors.sorted().iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["survey: the workbook has no survey sheet: add a sheet named survey with the questions"]
    );
}

// --- relevant -----------------------------------------------------------------------

/// The condition of the last question, which sits on its own page after the
/// standard questions below.
fn condition(relevant: &str) -> Result<String, Vec<String>> {
    let head = &[
        "type",
        "name",
        "label::nl",
        "label::en",
        "relevant",
        "constraint",
        "min_label::nl",
        "min_label::en",
        "max_label::nl",
        "max_label::en",
    ];
    let rows: Grid = &[
        head,
        &["select_one woon or_other", "woon", "W", "W"],
        &["select_multiple vervoer", "vervoer", "V", "V"],
        &["select_one ja_nee", "kinderen", "K", "K"],
        &["integer", "leeftijd", "L", "L", "", ". >= 0 and . <= 120"],
        &["range", "cijfer", "C", "C", "", "", "a", "a", "b", "b"],
        &["text", "motto", "N", "N"],
        &["note", "info", "I", "I"],
        &["acknowledge", "ok", "O", "O"],
        &["text", "doel", "D", "D", relevant],
    ];
    survey(rows).map(|value| value["pages"][8]["show_if"].as_str().unwrap_or("").to_string())
}

#[test]
fn extreme_numbers_are_errors_not_panics() {
    assert_eq!(
        parse_constraint("count-selected(.) < -9223372036854775808", true),
        Err("-9223372036854775808 is too small".into())
    );
    assert_eq!(parse_constraint(". > 9223372036854775807", false), Err("9223372036854775807 is too large".into()));
    assert!(parse_constraint(". > 99999999999999999999", false).unwrap_err().contains("not a whole number"));
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(27), "AB");
    assert_eq!(
        (column_letter(25).as_str(), column_letter(26).as_str(), column_letter(16383).as_str()),
        ("Z", "AA", "XFD")
    );
    assert!(!column_letter(u32::MAX).is_empty());
}

#[test]
fn relevant_forms() {
    for (relevant, expected) in [
        ("${woon} = 'huur'", r#"woon = "huur""#),
        (r#"${woon} = "huur""#, r#"woon = "huur""#),
        ("${woon}='other'", r#"woon = "other""#),
        ("${woon} != 'koop'", r#"woon != "koop""#),
        ("${leeftijd} >= 3", "leeftijd >= 3"),
        ("${leeftijd} > 3", "leeftijd > 3"),
        ("${leeftijd} < 3", "leeftijd < 3"),
        ("${leeftijd} <= 3", "leeftijd <= 3"),
        ("${leeftijd} = 30", "leeftijd = 30"),
        ("${leeftijd} >= '65'", "leeftijd >= 65"),
        ("65 <= ${leeftijd}", "leeftijd >= 65"),
        ("${cijfer} < -1", "cijfer < -1"),
        ("selected(${vervoer}, 'fiets')", r#"vervoer = "fiets""#),
        ("selected( ${woon} , \"koop\" )", r#"woon = "koop""#),
        ("${kinderen} = 'yes'", r#"kinderen = "yes""#),
        ("selected(${kinderen}, 'no')", r#"kinderen = "no""#),
        ("${ok} = 'OK'", r#"ok = "yes""#),
        ("not(selected(${vervoer}, 'auto'))", r#"not (vervoer = "auto")"#),
        ("not(${leeftijd} > 3 and ${cijfer} < 5)", "not (leeftijd > 3 and cijfer < 5)"),
        ("${kinderen} = 'yes' and ${leeftijd} < 40", r#"kinderen = "yes" and leeftijd < 40"#),
        ("${woon} = 'huur' or ${woon} = 'koop' or ${cijfer} > 8", r#"woon = "huur" or woon = "koop" or cijfer > 8"#),
        (
            "(${woon} = 'huur' or ${cijfer} >= 3) and not(${kinderen} = 'yes')",
            r#"(woon = "huur" or cijfer >= 3) and not (kinderen = "yes")"#,
        ),
        (
            "${woon} = 'huur' and (${cijfer} >= 3 or ${leeftijd} < 9)",
            r#"woon = "huur" and (cijfer >= 3 or leeftijd < 9)"#,
        ),
        ("((${cijfer} >= 3))", "cijfer >= 3"),
    ] {
        assert_eq!(condition(relevant), Ok(expected.to_string()), "{relevant}");
    }
}

#[test]
fn relevant_errors() {
    for (relevant, message) in [
        ("once(${woon} = 'huur')", "the function once() is not supported"),
        ("count-selected(${vervoer}) > 1", "the function count-selected() is not supported"),
        ("concat(${motto}, 'x') = 'ax'", "the function concat() is not supported"),
        (". > 3", "`.` (the answer to this question itself) is not supported here"),
        ("${leeftijd} + 1 > 3", "arithmetic (+) is not supported"),
        ("${leeftijd} div 2 > 3", "arithmetic (div) is not supported"),
        ("${leeftijd} > 3.5", "3.5 is not a whole number; only whole numbers are supported"),
        ("${woon} = 'huur' ${leeftijd} > 3", "${leeftijd} is not expected here: join conditions with and / or"),
        ("${woon} = 'huur", "the text starting with ' has no closing '"),
        ("${woon = 'huur'", "${ is not closed with }"),
        ("(${woon} = 'huur'", "( is not closed: the expression ends too early"),
        ("${woon}", "the expression ends too early"),
        (
            "${woon} = ${leeftijd}",
            "comparing two questions (${woon} and ${leeftijd}) is not supported: compare a question with a value",
        ),
        ("selected(${vervoer})", "selected() needs a comma after the question: ) is not expected here"),
        ("${woon} = 'huur' | ${woon} = 'koop'", "| (combining node sets) is not supported"),
        ("${onbekend} = 'x'", "${onbekend} is not a question in this form"),
        ("${doel} = 'x'", "${doel} is the question itself: a condition can only use earlier answers"),
        ("${motto} = 'Piet'", "${motto} is a text question: buurtpeil does not use free text in conditions"),
        ("${info} = 'x'", "${info} is a note: it has no answer"),
        ("${woon} = ''", "comparing ${woon} with '' (answered or not) is not supported: compare it with a value"),
        ("${woon} = 'villa'", "${woon} has no option villa (its options: huur, koop, other)"),
        ("selected(${vervoer}, 'other')", "${vervoer} has no option other (its options: fiets, auto, ov)"),
        ("${kinderen} = 'ja'", "${kinderen} is answered yes or no; ja is not one of them"),
        ("${woon} > 'huur'", "> only works on integer and range questions; ${woon} is not one"),
        ("${leeftijd} = 'oud'", "${leeftijd} is a number: compare it with a whole number"),
        (
            "selected(${leeftijd}, '3')",
            "selected() only works on select_one and select_multiple; ${leeftijd} is not one",
        ),
    ] {
        let errors = condition(relevant).unwrap_err();
        assert_eq!(errors, [format!("survey row 10, column relevant: {message}")], "{relevant}");
    }
}

#[test]
fn expressions_have_a_depth_and_a_length_limit() {
    let nested = |depth: usize| "(".repeat(depth) + "${cijfer} >= 3" + &")".repeat(depth);
    assert_eq!(condition(&nested(MAX_EXPRESSION_DEPTH)), Ok("cijfer >= 3".to_string()));
    let too_deep = format!(
        "survey row 10, column relevant: parentheses and not() are nested more than {MAX_EXPRESSION_DEPTH} levels deep: write the expression more simply"
    );
    assert_eq!(condition(&nested(MAX_EXPRESSION_DEPTH + 1)), Err(vec![too_deep.clone()]));
    let nots = "not(".repeat(MAX_EXPRESSION_DEPTH + 1) + "${cijfer} >= 3" + &")".repeat(MAX_EXPRESSION_DEPTH + 1);
    assert_eq!(condition(&nots), Err(vec![too_deep]));
    // Far past the length limit: an error, not a stack overflow.
    let too_long =
        format!("survey row 10, column relevant: the expression is longer than {MAX_EXPRESSION_CHARS} characters");
    assert_eq!(condition(&nested(10_000)), Err(vec![too_long.clone()]));
    assert_eq!(condition(&"(".repeat(3000)), Err(vec![too_long]));
    // Deep but short: the depth limit, before any recursion runs out.
    let unclosed = "(".repeat(MAX_EXPRESSION_CHARS);
    assert!(condition(&unclosed).unwrap_err()[0].contains("nested more than"));

    let constraint = |text: &str| errors(&[HEAD, &["integer", "n", "N", "N", "", "", text]]);
    let deep = "(".repeat(10_000) + ". >= 1" + &")".repeat(10_000);
    assert_eq!(
        constraint(&deep),
        [format!("survey row 2, column constraint: the expression is longer than {MAX_EXPRESSION_CHARS} characters")]
    );
    let deep = "(".repeat(MAX_EXPRESSION_DEPTH + 1) + ". >= 1" + &")".repeat(MAX_EXPRESSION_DEPTH + 1);
    assert!(constraint(&deep)[0].contains("nested more than"), "{:?}", constraint(&deep));
    let ok = "(".repeat(MAX_EXPRESSION_DEPTH) + ". >= 1" + &")".repeat(MAX_EXPRESSION_DEPTH) + " and . <= 9";
    assert_eq!(parse_constraint(&ok, false), Ok(Bounds { min: Some(1), max: Some(9), max_choices: None }));
}

#[test]
fn relevant_may_only_use_earlier_pages() {
    let head = &["type", "name", "label::nl", "label::en", "relevant"];
    let errors = errors(&[
        head,
        &["text", "a", "A", "A", "${b} = 'x'"],
        &["select_one ja_nee", "b", "B", "B"],
        &["begin_group", "g", "", "", "${c} = 'yes'"],
        &["select_one ja_nee", "c", "C", "C"],
        &["text", "d", "D", "D", "${c} = 'yes'"],
        &["text", "e", "E", "E", "${g} = 'yes'"],
        &["end_group"],
    ]);
    assert_eq!(
        errors,
        [
            "survey row 2, column relevant: ${b} comes later in the form: a condition can only use earlier answers",
            "survey row 4, column relevant: ${c} is inside this group: a group's relevant can only use answers from earlier pages (groups)",
            "survey row 6, column relevant: ${c} is in the same group (g): buurtpeil shows a group as one page and a condition can only use answers from earlier pages; move c to an earlier group",
            "survey row 7, column relevant: ${g} is a group, not a question",
        ]
    );
}

#[test]
fn expression_printing_keeps_structure() {
    let expr = parse_relevant("not(${a} = 'x' or ${b} = 'y') or (${c} > 1 and (${d} < 2 or ${e} = 3))").unwrap();
    assert_eq!(expr.print(0), r#"not (a = "x" or b = "y") or (c > 1 and (d < 2 or e = 3))"#);
}

// --- errors and files -----------------------------------------------------------------

#[test]
fn errors_display_one_per_line_in_sheet_and_row_order() {
    let errors = XlsFormErrors {
        file_name: "vragen.xlsx".into(),
        errors: vec![
            XlsFormError {
                sheet: Some("survey".into()),
                row: Some(7),
                column: Some("relevant".into()),
                message: "the function once() is not supported".into(),
            },
            XlsFormError { sheet: Some("choices".into()), row: Some(3), column: None, message: "x".into() },
            XlsFormError { sheet: Some("settings".into()), row: None, column: None, message: "y".into() },
            XlsFormError { sheet: None, row: None, column: None, message: "z".into() },
        ],
    };
    assert_eq!(
        errors.to_string(),
        "survey row 7, column relevant: the function once() is not supported\nchoices row 3: x\nsettings: y\nvragen.xlsx: z"
    );
    // all errors are collected, in sheet order
    let errors = run(
        &[HEAD, &["decimal", "a", "A", "A"], &["text", "b", "B", ""]],
        Some(&[&["list_name", "name", "label::nl", "label::en"], &["l", "X", "x", "x"]]),
        None,
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            format!("survey row 2, column type: type decimal is not supported by buurtpeil (supported: {SUPPORTED_TYPES})"),
            "survey row 3, column label::en: the English label is missing".to_string(),
            "choices row 2, column name: the value X is not allowed: use lower-case letters, digits and _, starting with a letter, at most 64".to_string(),
            format!("settings: the workbook has no settings sheet: {SETTINGS_NEEDED}"),
        ]
    );
}

fn file_errors(bytes: &[u8]) -> Vec<String> {
    match from_xlsx("x.xlsx", bytes) {
        Ok(value) => panic!("expected an error, got {value}"),
        Err(e) => e.to_string().lines().map(String::from).collect(),
    }
}

#[test]
fn files_that_are_not_xlsx() {
    let not_zip = "x.xlsx: this is not an .xlsx workbook: an .xlsx file is a zip archive and this file is not one";
    assert_eq!(file_errors(b""), [not_zip]);
    assert_eq!(file_errors(b"type,name\ntext,a\n"), [not_zip]);
    assert_eq!(
        file_errors(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]),
        ["x.xlsx: this is an old Excel 97-2003 (.xls) file or a workbook protected with a password: save it as an Excel workbook (.xlsx) without a password"]
    );
    assert_eq!(
        file_errors(&vec![0; MAX_FILE_BYTES + 1]),
        ["x.xlsx: the file is 5.0 MB; an XLSForm workbook may be at most 5 MB"]
    );
}

#[test]
fn a_zip_that_is_not_a_workbook() {
    let mut bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(Cursor::new(&mut bytes));
        zip.start_file("hello.txt", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, b"hello").unwrap();
        zip.finish().unwrap();
    }
    let errors = file_errors(&bytes);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("x.xlsx: this is not an .xlsx workbook that can be read"), "{errors:?}");
}

#[test]
fn a_zip_that_unpacks_too_far() {
    let mut bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(Cursor::new(&mut bytes));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        let block = vec![b'a'; 1024 * 1024];
        for _ in 0..=MAX_UNPACKED_BYTES / (1024 * 1024) {
            std::io::Write::write_all(&mut zip, &block).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(bytes.len() < MAX_FILE_BYTES);
    assert_eq!(file_errors(&bytes), ["x.xlsx: the workbook unpacks to more than 50 MB; at most that much is accepted"]);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = from_xlsx("x.xlsx", &bytes);
    }

    #[test]
    fn zip_like_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = b"PK\x03\x04".to_vec();
        data.extend(bytes);
        let _ = from_xlsx("x.xlsx", &data);
    }

    #[test]
    fn any_relevant_text_never_panics(text in "[ -~]{0,60}") {
        let _ = parse_relevant(&text);
        let _ = parse_constraint(&text, true);
        let _ = parse_constraint(&text, false);
    }

    #[test]
    fn any_survey_cells_never_panic(cells in proptest::collection::vec(
        proptest::collection::vec(prop_oneof![
            Just("text".to_string()), Just("integer".to_string()), Just("begin_group".to_string()),
            Just("end_group".to_string()), Just("select_one woon".to_string()), Just("range".to_string()),
            Just("yes".to_string()), Just("${a} = 'b'".to_string()), "[a-z]{1,3}", "[ -~]{0,12}",
        ], 0..8), 0..12))
    {
        let mut grid: Vec<Vec<&str>> = vec![HEAD.to_vec()];
        grid.extend(cells.iter().map(|row| row.iter().map(String::as_str).collect::<Vec<_>>()));
        let rows: Vec<&[&str]> = grid.iter().map(Vec::as_slice).collect();
        let _ = survey(&rows);
    }
}

// --- fixtures -------------------------------------------------------------------------

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/xlsform");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixture_errors(name: &str) -> Vec<String> {
    match from_xlsx(name, &fixture(name)) {
        Ok(value) => panic!("{name} converted: {value:#}"),
        Err(e) => e.to_string().lines().map(String::from).collect(),
    }
}

#[test]
fn the_example_workbook_converts_to_the_expected_json() {
    let value =
        from_xlsx("buurtpeil-voorbeeld.xlsx", &fixture("buurtpeil-voorbeeld.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    let expected: Value =
        serde_json::from_slice(&fixture("buurtpeil-voorbeeld.expected.json")).expect("the expected JSON parses");
    assert_eq!(value, expected, "got:\n{}", serde_json::to_string_pretty(&value).unwrap());
    // And it is a questionnaire buurtpeil takes as it is.
    let def = crate::questionnaire::parse_json("buurtpeil-voorbeeld.xlsx", &value.to_string())
        .unwrap_or_else(|e| panic!("the converted workbook is a valid questionnaire: {e}"));
    assert!(def.pages.len() > 1 && def.pages.iter().any(|p| p.show_if.is_some()));
    let kinds: std::collections::HashSet<_> = def.questions().map(|q| q.kind.type_name()).collect();
    for t in ["single_choice", "multiple_choice", "number", "scale", "yes_no", "statement", "consent"] {
        assert!(kinds.contains(t), "the example holds a {t}");
    }
}

#[test]
fn damaged_copies_of_the_example_never_panic() {
    let bytes = fixture("buurtpeil-voorbeeld.xlsx");
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&(0..bytes.len(), any::<u8>(), 0..bytes.len()), |(at, byte, cut)| {
            let mut damaged = bytes.clone();
            damaged[at] = byte;
            let _ = from_xlsx("x.xlsx", &damaged);
            let _ = from_xlsx("x.xlsx", &bytes[..cut]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn broken_fixtures_report_each_problem_where_it_is() {
    let unsupported = |row: u32, name: &str| {
        format!(
            "survey row {row}, column type: type {name} is not supported by buurtpeil (supported: {SUPPORTED_TYPES})"
        )
    };
    assert_eq!(
        fixture_errors("unsupported-type.xlsx"),
        [
            unsupported(3, "geopoint"),
            "survey row 4, column calculation: the column calculation is not supported by buurtpeil: remove it or leave it empty".into(),
            unsupported(4, "calculate"),
            unsupported(5, "begin_repeat"),
            unsupported(7, "end_repeat"),
            unsupported(8, "decimal"),
            // The fixture is anonymous and asks for a name in row 2.
            "settings: the question naam asks for a name, and an anonymous questionnaire may never ask who someone is \
             or how to reach them: set kind to identified in the settings sheet (with a purpose) or remove the question"
                .into(),
        ]
    );
    assert_eq!(
        fixture_errors("bad-relevant.xlsx"),
        [
            "survey row 4, column relevant: the function once() is not supported",
            "survey row 5, column relevant: the function count-selected() is not supported",
            "survey row 6, column relevant: arithmetic (+) is not supported",
            "survey row 7, column relevant: ${leeftijd} comes later in the form: a condition can only use earlier answers",
        ]
    );
    assert_eq!(
        fixture_errors("missing-translation.xlsx"),
        [
            "survey row 2, column label::en: the English label is missing",
            "survey row 3, column label: give label::nl and label::en instead of label: buurtpeil needs every text in Dutch and English",
            "survey row 3, column label::nl: the Dutch label is missing",
            "survey row 3, column label::en: the English label is missing",
            "choices row 3, column label::nl: the Dutch label is missing",
            "settings: the question naam asks for a name, and an anonymous questionnaire may never ask who someone is \
             or how to reach them: set kind to identified in the settings sheet (with a purpose) or remove the question",
        ]
    );
    assert_eq!(
        fixture_errors("unknown-column.xlsx"),
        [
            "survey row 2, column default: the column default is not supported by buurtpeil: remove it or leave it empty",
            "survey row 3, column media::image: the column media::image is not supported by buurtpeil: remove it or leave it empty",
            "settings: the question straat asks for an address, and an anonymous questionnaire may never ask who someone \
             is or how to reach them: set kind to identified in the settings sheet (with a purpose) or remove the question",
        ]
    );
    assert_eq!(
        fixture_errors("unknown-list.xlsx"),
        ["survey row 2, column type: the list woonvorm is not in the choices sheet (list_name is case-sensitive)"]
    );
    assert_eq!(
        fixture_errors("too-many-rows.xlsx"),
        [format!("survey: the sheet has more than {MAX_ROWS} rows; at most {MAX_ROWS} are accepted")]
    );
}

#[test]
fn the_example_in_the_docs() {
    let survey: Grid = &[
        HEAD,
        &[
            "select_one woonsituatie or_other",
            "woonsituatie",
            "Huurt u uw huis of is het van u?",
            "Do you rent your home or own it?",
            "yes",
        ],
        &["integer", "leeftijd", "Hoe oud bent u?", "How old are you?", "yes", "", ". >= 16 and . <= 110"],
        &["begin_group", "huur", "Uw huurhuis", "Your rented home", "", "selected(${woonsituatie}, 'huur')"],
        &[
            "select_one ja_nee",
            "onderhoud",
            "Doet de verhuurder het onderhoud op tijd?",
            "Does the landlord do the maintenance on time?",
        ],
        &["end_group"],
    ];
    let choices: Grid = &[
        &["list_name", "name", "label::nl", "label::en"],
        &["woonsituatie", "huur", "Ik huur", "I rent"],
        &["woonsituatie", "koop", "Het huis is van mij", "I own it"],
        &["ja_nee", "yes", "Ja", "Yes"],
        &["ja_nee", "no", "Nee", "No"],
    ];
    let settings: Grid = &[
        &["form_id", "form_title::nl", "form_title::en"],
        &["wonen", "Wonen in uw buurt", "Living in your neighbourhood"],
    ];
    let docs = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/xlsform.md"));
    let json = docs
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/xlsform.md has a JSON example");
    let expected: Value = serde_json::from_str(json).expect("the JSON example in docs/xlsform.md parses");
    assert_eq!(run(survey, Some(choices), Some(settings)), Ok(expected));
}

// --- privacy --------------------------------------------------------------------

#[test]
fn an_anonymous_workbook_asks_nobody_who_they_are() {
    const ROWS: Grid = &[
        HEAD,
        &["text", "naam", "Uw naam", "Your name", "", "", ""],
        &["text", "e_mail", "Uw e-mailadres", "Your e-mail address", "", "", ""],
    ];
    let errors = errors(ROWS);
    assert!(
        errors.iter().any(|e| e.starts_with("settings: the question naam asks for a name, and an anonymous")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("the question e_mail asks for an e-mail address")), "{errors:?}");
    // With kind identified and a purpose the same questions convert.
    const IDENTIFIED: Grid = &[
        &["form_id", "form_title::nl", "form_title::en", "kind", "purpose::nl", "purpose::en"],
        &["buurt", "Buurt", "Neighbourhood", "identified", "Om u te bellen", "To call you"],
    ];
    let value = run(ROWS, Some(CHOICES_OK), Some(IDENTIFIED)).expect("identified converts");
    assert_eq!(value["kind"], "identified");
    // Free text that names nobody is fine in an anonymous workbook.
    question(&["text", "idee", "Uw idee", "Your idea", "", "", ""]);
}
