// The same schema on SQLite and PostgreSQL; see migrations/{sqlite,postgres}.

diesel::table! {
    areas (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent -> Nullable<Text>,
    }
}

diesel::table! {
    questionnaire_versions (id) {
        id -> Integer,
        slug -> Text,
        version -> Integer,
        content_hash -> Text,
        definition -> Text,
        published_on -> Date,
    }
}

diesel::table! {
    responses (id) {
        id -> BigInt,
        questionnaire_version_id -> Integer,
        buurt -> Text,
        submitted_on -> Date,
    }
}

diesel::table! {
    answers (response_id, question_id, choice) {
        response_id -> BigInt,
        questionnaire_version_id -> Integer,
        buurt -> Text,
        question_id -> Text,
        choice -> Text,
        value -> Integer,
    }
}

diesel::table! {
    text_answers (response_id, question_id) {
        response_id -> BigInt,
        question_id -> Text,
        body -> Text,
    }
}

diesel::joinable!(responses -> questionnaire_versions (questionnaire_version_id));
diesel::joinable!(text_answers -> responses (response_id));

diesel::allow_tables_to_appear_in_same_query!(areas, questionnaire_versions, responses, answers, text_answers,);
