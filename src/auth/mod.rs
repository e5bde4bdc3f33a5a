//! Professional accounts: roles, argon2id passwords, login throttling,
//! session contents and CSRF tokens. No HTTP here; `web::accounts` maps these
//! to pages, cookies and status codes.

mod email;
mod password;
mod role;
mod session;
mod store;
mod throttle;

pub use email::{EmailAddress, EmailError, MAX_EMAIL_LEN};
pub use password::{
    hash_password, verify_password, warm_up, HashError, NewPassword, PasswordError, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN,
};
pub use role::{Role, UnknownRole};
pub use session::{check_csrf, CsrfError, CsrfSecret, Session, SessionKey, SessionKeyError, SESSION_LIFETIME_SECS};
pub use store::{
    authenticate, create_user, find_by_email, find_by_id, list_users, reset_demo_account, reset_demo_admin,
    set_disabled, set_password, AccountError, LoginOutcome, User, UserId, DEMO_ADMIN, DEMO_COUNCIL,
};
pub use throttle::{Attempt, Limits, LoginThrottle, Throttled};
