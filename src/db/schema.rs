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
    responses (questionnaire_version_id, buurt, submitted_on, id) {
        questionnaire_version_id -> Integer,
        buurt -> Text,
        submitted_on -> Date,
        id -> BigInt,
        record_key -> Integer,
    }
}

diesel::table! {
    response_counts (questionnaire_version_id, buurt, submitted_on) {
        questionnaire_version_id -> Integer,
        buurt -> Text,
        submitted_on -> Date,
        n -> BigInt,
        key_sum -> BigInt,
    }
}

diesel::table! {
    answers (questionnaire_version_id, question_id, buurt, value, choice, submitted_on, response_id) {
        questionnaire_version_id -> Integer,
        question_id -> Text,
        buurt -> Text,
        value -> Integer,
        choice -> Text,
        submitted_on -> Date,
        response_id -> BigInt,
        /// The respondent's weighting cell (`Cell::index`), None when not
        /// placed (migration 000010).
        cell -> Nullable<SmallInt>,
    }
}

diesel::table! {
    text_answers (questionnaire_version_id, buurt, submitted_on, response_id, question_id) {
        questionnaire_version_id -> Integer,
        buurt -> Text,
        submitted_on -> Date,
        response_id -> BigInt,
        question_id -> Text,
        body -> Text,
    }
}

diesel::joinable!(responses -> questionnaire_versions (questionnaire_version_id));

diesel::allow_tables_to_appear_in_same_query!(areas, questionnaire_versions, responses, answers, text_answers,);

diesel::table! {
    partial_responses (code_hash) {
        code_hash -> Text,
        questionnaire_version_id -> Integer,
        buurt -> Text,
        page -> Integer,
        answers -> Text,
        consent_on -> Nullable<Date>,
        updated_on -> Date,
    }
}

diesel::table! {
    waves (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        opens_on -> Date,
        closes_on -> Nullable<Date>,
        stopped -> Bool,
        created_on -> Date,
        invitation_only -> Bool,
    }
}

diesel::table! {
    wave_buurten (wave_id, buurt) {
        wave_id -> Integer,
        buurt -> Text,
    }
}

diesel::table! {
    identified_responses (id) {
        id -> BigInt,
        questionnaire_version_id -> Integer,
        buurt -> Text,
        submitted_on -> Date,
        consent_on -> Date,
        answers -> Text,
    }
}

diesel::table! {
    questionnaire_drafts (slug) {
        slug -> Text,
        definition -> Text,
        based_on_version -> Nullable<Integer>,
        updated_on -> Date,
    }
}

diesel::table! {
    questionnaire_archive (slug) {
        slug -> Text,
        archived_on -> Date,
    }
}

diesel::joinable!(wave_buurten -> waves (wave_id));
diesel::allow_tables_to_appear_in_same_query!(waves, wave_buurten);

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled -> Bool,
    }
}

// Invitations (migration 2026-11-28-000005_invitations).
diesel::table! {
    invitations (id) {
        id -> Integer,
        campaign -> Text,
        questionnaire -> Text,
        base_url -> Text,
        person_key -> Nullable<Text>,
        name -> Text,
        street_line -> Text,
        postcode -> Text,
        city -> Text,
        email -> Nullable<Text>,
        buurt -> Text,
        created_on -> Date,
        letter_on -> Nullable<Date>,
        email_on -> Nullable<Date>,
        used_on -> Nullable<Date>,
        purged_on -> Nullable<Date>,
    }
}

diesel::table! {
    invitation_tokens (token_hash) {
        token_hash -> Text,
        invitation_id -> Integer,
        channel -> Text,
        round -> Integer,
        issued_on -> Date,
        voided_on -> Nullable<Date>,
    }
}

diesel::table! {
    invitation_outbox (id) {
        id -> Integer,
        invitation_id -> Integer,
        channel -> Text,
        round -> Integer,
        status -> Text,
        attempts -> Integer,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        created_on -> Date,
        attempted_at -> Nullable<Timestamp>,
        sent_on -> Nullable<Date>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(invitation_tokens -> invitations (invitation_id));
diesel::joinable!(invitation_outbox -> invitations (invitation_id));
diesel::allow_tables_to_appear_in_same_query!(invitations, invitation_tokens, invitation_outbox);

diesel::table! {
    campaigns (id) {
        id -> Integer,
        name -> Text,
        created_on -> Date,
        register_hash -> Text,
        register_size -> Integer,
        purged_on -> Nullable<Date>,
    }
}

diesel::table! {
    register_people (campaign_id, person_id) {
        campaign_id -> Integer,
        person_id -> Text,
        name -> Text,
        street -> Text,
        house_number -> Integer,
        house_addition -> Text,
        postcode -> Text,
        city -> Text,
        buurt -> Text,
        birth_year -> Integer,
        birth_date -> Nullable<Date>,
        gender -> Text,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    draws (campaign_id) {
        campaign_id -> Integer,
        drawn_on -> Date,
        selection_hash -> Text,
        protocol -> Text,
    }
}

diesel::table! {
    draw_selected (campaign_id, person_id) {
        campaign_id -> Integer,
        person_id -> Text,
    }
}

diesel::table! {
    drawn_hashes (campaign_id, person_hash) {
        campaign_id -> Integer,
        person_hash -> Text,
        drawn_on -> Date,
    }
}

diesel::joinable!(register_people -> campaigns (campaign_id));
diesel::joinable!(draws -> campaigns (campaign_id));
diesel::allow_tables_to_appear_in_same_query!(campaigns, register_people, draws, draw_selected, drawn_hashes);

diesel::table! {
    area_boundaries (code) {
        code -> Text,
        geometry -> Text,
    }
}

diesel::joinable!(area_boundaries -> areas (code));
diesel::allow_tables_to_appear_in_same_query!(areas, area_boundaries);

diesel::table! {
    panel_selections (id) {
        id -> Integer,
        campaign -> Text,
        questionnaire -> Text,
        created_on -> Date,
        status -> Text,
        previous_id -> Nullable<Integer>,
        settings -> Text,
        features_csv -> Text,
        people_csv -> Nullable<Text>,
        panel_csv -> Nullable<Text>,
        probabilities_csv -> Nullable<Text>,
        protocol -> Nullable<Text>,
        public_json -> Nullable<Text>,
        problem -> Nullable<Text>,
        runner -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    campaign_publications (campaign) {
        campaign -> Text,
        published_on -> Date,
    }
}

diesel::table! {
    user_areas (user_id, area) {
        user_id -> Integer,
        area -> Text,
    }
}

diesel::table! {
    talent_profiles (response_id) {
        response_id -> BigInt,
        token_hash -> Text,
        created_on -> Date,
        confirmed_on -> Date,
        renewal_due_on -> Nullable<Date>,
    }
}

diesel::table! {
    talent_initiatives (id) {
        id -> Integer,
        buurt -> Text,
        name -> Text,
        kind -> Text,
        offers -> Text,
        skills -> Text,
        teaches -> Text,
        activities -> Text,
        audience -> Text,
        time_needed -> Text,
        contact -> Text,
        status -> Text,
        updated_on -> Date,
    }
}

diesel::table! {
    talent_outcomes (id) {
        id -> Integer,
        profile_id -> BigInt,
        initiative_id -> Integer,
        outcome -> Text,
        note -> Text,
        user_id -> Nullable<Integer>,
        recorded_on -> Date,
    }
}

diesel::table! {
    talent_match_tally (buurt, month) {
        buurt -> Text,
        month -> Text,
        matches -> Integer,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at -> Timestamp,
        user_id -> Nullable<Integer>,
        action -> Text,
        subject -> Text,
    }
}

diesel::joinable!(talent_profiles -> identified_responses (response_id));
diesel::allow_tables_to_appear_in_same_query!(talent_profiles, identified_responses);
diesel::allow_tables_to_appear_in_same_query!(talent_outcomes, talent_initiatives);

diesel::table! {
    talent_outbox (id) {
        id -> Integer,
        profile_id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        created_on -> Date,
    }
}

diesel::table! {
    talent_proposals (id) {
        id -> Integer,
        profile_id -> BigInt,
        initiative_id -> Integer,
        token_hash -> Text,
        proposed_on -> Date,
        answer -> Nullable<Text>,
        answered_on -> Nullable<Date>,
    }
}

diesel::joinable!(talent_proposals -> talent_initiatives (initiative_id));
diesel::allow_tables_to_appear_in_same_query!(talent_proposals, talent_initiatives);

// Population margins for weighting (migration 2026-11-28-000009_population_margins).
diesel::table! {
    population_margins (area, variable, category) {
        area -> Text,
        variable -> Text,
        category -> Text,
        population -> BigInt,
        source -> Text,
        imported_on -> Date,
    }
}

// Versions whose answers' cells are still to be filled (migration 000010).
diesel::table! {
    answer_cells_pending (questionnaire_version_id) {
        questionnaire_version_id -> Integer,
    }
}

diesel::table! {
    submission_keys (key_hash) {
        key_hash -> Text,
        used_on -> Date,
    }
}
