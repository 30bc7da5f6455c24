//! `qnet admin …`: what an operator does on a new system, on either backend
//! (`QNET_BACKEND=aws`: the deployed table, and for `invite-admin` the user pool
//! `QNET_USER_POOL_ID`). Every command goes through the same use cases as the
//! API's admin routes (`App::create_organisation`, `App::grant_role`, …), acting
//! as the operator, who holds the admin role. Each prints JSON.

pub use aws_sdk_cognitoidentityprovider;
use clap::Subcommand;
use qnet_app::{App, AppError, Claims, PageRequest};
use qnet_domain::Role;
use qnet_domain::organisation::OrganisationInput;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create and list organisations (whose email domains may sign up).
    Organisations {
        #[command(subcommand)]
        command: OrganisationsCommand,
    },
    /// Grant, revoke and list roles (records merged into claims on every request).
    Roles {
        #[command(subcommand)]
        command: RolesCommand,
    },
    /// Make EMAIL an admin: grants the role and, with QNET_BACKEND=aws, creates
    /// their account in the user pool (AdminCreateUser: Cognito emails a temporary
    /// password; the pre-sign-up trigger admits operator-created accounts whatever
    /// their domain) and adds it to the `admin` group. Locally, they sign in at
    /// the web app's local sign-in.
    InviteAdmin { email: String },
    /// Write the portfolio's per-member indexes for data stored before they
    /// existed (project team places; closed mentoring pairings under their
    /// mentor). Safe to run again: what is already indexed is left alone.
    BackfillPortfolio,
}

#[derive(Subcommand)]
pub enum OrganisationsCommand {
    /// Create an organisation.
    Create {
        #[arg(long)]
        name: String,
        /// nhs, local_authority, voluntary, education or other.
        #[arg(long = "type", default_value = "nhs")]
        kind: String,
        #[arg(long)]
        ods_code: Option<String>,
        /// An email domain its staff use; repeat for several.
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
    },
    /// List every organisation.
    List,
}

#[derive(Subcommand)]
pub enum RolesCommand {
    /// Grant organiser, moderator or admin to an email address.
    Grant { email: String, role: String },
    /// Revoke a granted role.
    Revoke { email: String, role: String },
    /// List every granted role.
    List,
}

/// The operator, as the use cases see them: an admin who is no member.
pub fn operator() -> Claims {
    Claims::new("operator".into(), "operator@qnet.invalid".into(), "Qnet operator (qnet admin)".into(), vec![Role::Admin])
}

pub async fn run(app: &App, command: AdminCommand) -> anyhow::Result<Value> {
    let op = operator();
    Ok(match command {
        AdminCommand::Organisations { command: OrganisationsCommand::Create { name, kind, ods_code, domains } } => {
            let body = json!({"name": name, "type": kind, "ods_code": ods_code, "email_domains": domains});
            let input = OrganisationInput::parse(&body, true).map_err(AppError::from)?;
            app.create_organisation(&op, input, None).await?.view().clone()
        }
        AdminCommand::Organisations { command: OrganisationsCommand::List } => {
            let mut items = Vec::new();
            let mut cursor = None;
            loop {
                let page = app.list_organisations(&PageRequest { limit: 100, cursor }).await?;
                items.extend(page.items.into_iter().map(|o| serde_json::to_value(o).expect("organisations serialise")));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            json!({ "items": items })
        }
        AdminCommand::BackfillPortfolio => json!({ "written": app.backfill_portfolio_indexes().await? }),
        AdminCommand::Roles { command: RolesCommand::Grant { email, role } } => {
            serde_json::to_value(app.grant_role(&op, &email, &role).await?)?
        }
        AdminCommand::Roles { command: RolesCommand::Revoke { email, role } } => {
            app.revoke_role(&op, &email, &role).await?;
            json!({ "revoked": { "email": email.trim().to_lowercase(), "role": role } })
        }
        AdminCommand::Roles { command: RolesCommand::List } => {
            let mut items = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = app.list_role_grants(&op, 100, cursor.as_deref()).await?;
                items.extend(page.items.into_iter().map(|g| serde_json::to_value(g).expect("grants serialise")));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            json!({ "items": items })
        }
        AdminCommand::InviteAdmin { email } => {
            let grant = app.grant_role(&op, &email, "admin").await?;
            json!({ "grant": grant })
        }
    })
}

/// `invite-admin` in AWS: the account in the user pool `QNET_USER_POOL_ID` (the
/// stack's `UserPoolId` output), from the standard AWS configuration.
pub async fn invite_in_user_pool(email: &str) -> anyhow::Result<Value> {
    let pool = std::env::var("QNET_USER_POOL_ID")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("QNET_USER_POOL_ID is not set: the stack's UserPoolId output"))?;
    let sdk = qnet_aws::from_env::sdk_config().await;
    invite(&aws_sdk_cognitoidentityprovider::Client::new(&sdk), &pool, email).await
}

/// The account for `email` in `pool` (Cognito emails the temporary password), in
/// the `admin` group. An account that exists already is only added to the group.
pub async fn invite(client: &aws_sdk_cognitoidentityprovider::Client, pool: &str, email: &str) -> anyhow::Result<Value> {
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType};
    let email = qnet_domain::member::normalise_email(email).map_err(|m| anyhow::anyhow!("{email}: {m}"))?;
    let attr = |name: &str, value: &str| AttributeType::builder().name(name).value(value).build();
    let created = client
        .admin_create_user()
        .user_pool_id(pool)
        .username(&email)
        .user_attributes(attr("email", &email)?)
        .user_attributes(attr("email_verified", "true")?)
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await;
    let account = match created {
        Ok(out) => out.user().and_then(|u| u.username()).unwrap_or(&email).to_string(),
        Err(e) if e.code() == Some("UsernameExistsException") => email.clone(),
        Err(e) => anyhow::bail!(
            "AdminCreateUser {email} in {pool}: {}",
            aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e)
        ),
    };
    client
        .admin_add_user_to_group()
        .user_pool_id(pool)
        .username(&account)
        .group_name(Role::Admin.as_str())
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!("AdminAddUserToGroup {email}: {}", aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e))
        })?;
    Ok(json!({ "user_pool": pool, "username": account, "group": Role::Admin.as_str() }))
}
