//! Accounts in the `users` table, the same on SQLite and PostgreSQL.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use super::email::EmailAddress;
use super::password::{hash_password, verify_password, HashError, NewPassword};
use super::role::Role;
use crate::db::schema::users;
use crate::db::{AnyConnection, DbError};

/// The id of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct UserId(pub i32);

/// An account as stored. The password hash stays out of `Debug`.
#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub email: EmailAddress,
    pub role: Role,
    pub password_hash: String,
    /// UTC.
    pub created_at: NaiveDateTime,
    pub disabled: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("created_at", &self.created_at)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("there is already an account for {0}")]
    DuplicateEmail(EmailAddress),
    #[error("there is no account for {0}")]
    NoSuchAccount(EmailAddress),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<DieselError> for AccountError {
    fn from(e: DieselError) -> AccountError {
        AccountError::Db(DbError::Query(e))
    }
}

type Row = (i32, String, String, String, NaiveDateTime, bool);

fn columns() -> (users::id, users::email, users::role, users::password_hash, users::created_at, users::disabled) {
    (users::id, users::email, users::role, users::password_hash, users::created_at, users::disabled)
}

/// A stored row back into a `User`; a row that no longer parses (edited by
/// hand) is left out with a warning rather than trusted.
fn to_user((id, email, role, password_hash, created_at, disabled): Row) -> Option<User> {
    let parsed = EmailAddress::parse(&email).ok().zip(Role::parse(&role).ok());
    let Some((email, role)) = parsed else {
        tracing::warn!("account {id} has an unreadable e-mail address or role and is ignored");
        return None;
    };
    Some(User { id: UserId(id), email, role, password_hash, created_at, disabled })
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Creates an account. Hashing is slow: call off the async threads.
pub fn create_user(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    role: Role,
    password: &NewPassword,
) -> Result<User, AccountError> {
    let hash = hash_password(password)?;
    let inserted = diesel::insert_into(users::table)
        .values((
            users::email.eq(email.as_str()),
            users::role.eq(role.as_str()),
            users::password_hash.eq(&hash),
            users::created_at.eq(now()),
            users::disabled.eq(false),
        ))
        .execute(conn);
    match inserted {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(AccountError::DuplicateEmail(email.clone()))
        }
        other => other?,
    };
    find_by_email(conn, email)?.ok_or_else(|| AccountError::NoSuchAccount(email.clone()))
}

pub fn find_by_email(conn: &mut AnyConnection, email: &EmailAddress) -> Result<Option<User>, DbError> {
    let row: Option<Row> =
        users::table.filter(users::email.eq(email.as_str())).select(columns()).first(conn).optional()?;
    Ok(row.and_then(to_user))
}

pub fn find_by_id(conn: &mut AnyConnection, id: UserId) -> Result<Option<User>, DbError> {
    let row: Option<Row> = users::table.find(id.0).select(columns()).first(conn).optional()?;
    Ok(row.and_then(to_user))
}

/// Every account, by e-mail address.
pub fn list_users(conn: &mut AnyConnection) -> Result<Vec<User>, DbError> {
    let rows: Vec<Row> = users::table.order(users::email.asc()).select(columns()).load(conn)?;
    Ok(rows.into_iter().filter_map(to_user).collect())
}

/// Sets a new password; every session of the account ends (sessions carry
/// a fingerprint of the password hash).
pub fn set_password(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    password: &NewPassword,
) -> Result<(), AccountError> {
    let hash = hash_password(password)?;
    let n = diesel::update(users::table.filter(users::email.eq(email.as_str())))
        .set(users::password_hash.eq(&hash))
        .execute(conn)?;
    if n == 0 {
        return Err(AccountError::NoSuchAccount(email.clone()));
    }
    Ok(())
}

/// Disables or enables an account; a disabled account's sessions end at
/// their next request.
pub fn set_disabled(conn: &mut AnyConnection, email: &EmailAddress, disabled: bool) -> Result<(), AccountError> {
    let n = diesel::update(users::table.filter(users::email.eq(email.as_str())))
        .set(users::disabled.eq(disabled))
        .execute(conn)?;
    if n == 0 {
        return Err(AccountError::NoSuchAccount(email.clone()));
    }
    Ok(())
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn(User),
    /// Unknown address or wrong password: the two are never told apart.
    WrongCredentials,
    /// The password was right but the account is disabled.
    Disabled,
}

/// Checks an e-mail address and password. Unknown or malformed addresses
/// cost the same time as known ones. Slow: call off the async threads.
pub fn authenticate(conn: &mut AnyConnection, email: &str, password: &str) -> Result<LoginOutcome, DbError> {
    let user = match EmailAddress::parse(email) {
        Ok(e) => find_by_email(conn, &e)?,
        Err(_) => None,
    };
    let ok = verify_password(user.as_ref().map(|u| u.password_hash.as_str()), password);
    Ok(match user {
        Some(u) if ok && u.disabled => LoginOutcome::Disabled,
        Some(u) if ok => LoginOutcome::LoggedIn(u),
        _ => LoginOutcome::WrongCredentials,
    })
}

/// The demo administrator's address (`serve --demo`).
pub const DEMO_ADMIN: &str = "demo@buurtpeil.local";

/// The demo council member's address (`serve --demo`): draws, invites and
/// selects the panel of the demo campaign.
pub const DEMO_COUNCIL: &str = "raad@buurtpeil.local";

/// Creates the demo administrator if absent and gives it a new random
/// password, which is returned (and shown once on start). Enables it again
/// if it was disabled.
pub fn reset_demo_admin(conn: &mut AnyConnection) -> Result<String, AccountError> {
    let email = EmailAddress::parse(DEMO_ADMIN).expect("the demo address is valid");
    reset_demo_account(conn, &email, Role::Admin)
}

/// A demo account of `role` with a new random password (returned), made
/// or reset, and enabled.
pub fn reset_demo_account(conn: &mut AnyConnection, email: &EmailAddress, role: Role) -> Result<String, AccountError> {
    let raw = NewPassword::random(20);
    let password = NewPassword::parse(&raw, email).expect("a random password meets the rules");
    match find_by_email(conn, email)? {
        Some(_) => {
            set_password(conn, email, &password)?;
            set_disabled(conn, email, false)?;
        }
        None => {
            create_user(conn, email, role, &password)?;
        }
    }
    Ok(raw)
}
