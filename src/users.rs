//! `buurtpeil user …`: accounts from the command line.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context, Result};

use buurtpeil::auth::{
    create_user, list_users, set_disabled, set_password, EmailAddress, NewPassword, Role, MAX_PASSWORD_LEN,
};
use buurtpeil::db::{connect, DatabaseUrl};

use super::UserCommand;

pub fn run(command: &UserCommand, url: &DatabaseUrl) -> Result<()> {
    match command {
        UserCommand::Create { email, role } => {
            let email = EmailAddress::parse(email)?;
            let role = Role::parse(role)?;
            let password = read_password(&email)?;
            let pool = connect(url, 1)?;
            let user = create_user(&mut *pool.get()?, &email, role, &password)?;
            println!("created {} account {} (id {})", user.role, user.email, user.id.0);
        }
        UserCommand::List => {
            let pool = connect(url, 1)?;
            let users = list_users(&mut *pool.get()?)?;
            if users.is_empty() {
                println!("no accounts yet; create one with `buurtpeil user create --email E --role admin`");
            }
            for u in users {
                let state = if u.disabled { "disabled" } else { "enabled" };
                println!("{}\t{}\t{}\tcreated {} UTC", u.email, u.role, state, u.created_at.format("%Y-%m-%d %H:%M"));
            }
        }
        UserCommand::Password { email } => {
            let email = EmailAddress::parse(email)?;
            let pool = connect(url, 1)?;
            if buurtpeil::auth::find_by_email(&mut *pool.get()?, &email)?.is_none() {
                bail!("there is no account for {email}");
            }
            let password = read_password(&email)?;
            set_password(&mut *pool.get()?, &email, &password)?;
            println!("new password set for {email}; its sessions have ended");
        }
        UserCommand::Disable { email } | UserCommand::Enable { email } => {
            let disabled = matches!(command, UserCommand::Disable { .. });
            let email = EmailAddress::parse(email)?;
            let pool = connect(url, 1)?;
            set_disabled(&mut *pool.get()?, &email, disabled)?;
            println!("{email} is {}", if disabled { "disabled" } else { "enabled" });
        }
    }
    Ok(())
}

/// The new password: typed twice without echo on a terminal, otherwise the
/// first line of stdin (for scripts). Checked against the rules.
fn read_password(email: &EmailAddress) -> Result<NewPassword> {
    let stdin = std::io::stdin();
    let raw = if stdin.is_terminal() {
        let first = rpassword::prompt_password("Wachtwoord / password (at least 12 characters): ")
            .context("cannot read the password from the terminal")?;
        NewPassword::parse(&first, email)?;
        let second =
            rpassword::prompt_password("Nogmaals / again: ").context("cannot read the password from the terminal")?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    } else {
        let mut line = Vec::new();
        // Read at most a little more than the longest password allowed.
        let limit = (MAX_PASSWORD_LEN * 4 + 2) as u64;
        std::io::Read::take(stdin.lock(), limit)
            .read_until(b'\n', &mut line)
            .context("cannot read the password from stdin")?;
        if line.len() as u64 == limit && !line.ends_with(b"\n") {
            bail!("the password is too long: use at most {MAX_PASSWORD_LEN} characters");
        }
        let line = String::from_utf8(line).context("the password on stdin is not valid UTF-8")?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            bail!("no password given: type it when asked, or pipe it as the first line of stdin");
        }
        line.to_owned()
    };
    Ok(NewPassword::parse(&raw, email)?)
}
