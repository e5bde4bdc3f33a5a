//! The privacy model, checked on what is actually stored.

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use crate::helpers::*;
use crate::on_both_backends;

#[derive(diesel::QueryableByName, Debug)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
}

async fn a_response_holds_nothing_about_the_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires/geluk/responses"))
        .header("user-agent", "Mozilla/5.0 Secret-Phone")
        .header("x-forwarded-for", "203.0.113.7")
        .json(&geluk("BU07721110", 6))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let body = res.text().await.unwrap();
    assert!(!body.contains("\"id\""), "no handle on the stored response: {body}");
    app.submit_many("BU07721110", 20, 6).await;

    let mut conn = app.db.connect();
    let columns_sql = match backend {
        Backend::Sqlite => "SELECT name FROM pragma_table_info('responses')".to_string(),
        Backend::Postgres => {
            "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = 'responses'"
                .to_string()
        }
    };
    let mut columns: Vec<String> = buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(&columns_sql)
        .load::<Column>(c))
    .unwrap()
    .into_iter()
    .map(|c| c.name)
    .collect();
    columns.sort();
    assert_eq!(columns, vec!["buurt", "id", "questionnaire_version_id", "record_key", "submitted_on"]);

    // The stored date is a date, not a time; ids are random, not a sequence.
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        day: String,
    }
    let sql = "SELECT id, CAST(submitted_on AS TEXT) AS day FROM responses";
    let rows: Vec<Row> = buurtpeil::on_backend!(&mut conn, |c| diesel::sql_query(sql).load::<Row>(c)).unwrap();
    assert_eq!(rows.len(), 21);
    assert!(rows.iter().all(|r| r.day.len() == 10), "date only");
    let mut ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    ids.sort();
    let gaps_of_one = ids.windows(2).filter(|w| w[1] - w[0] == 1).count();
    assert_eq!(gaps_of_one, 0, "ids do not count up");
    assert!(ids[0] > 1000, "ids are not small counters");
}
on_both_backends!(a_response_holds_nothing_about_the_person);
