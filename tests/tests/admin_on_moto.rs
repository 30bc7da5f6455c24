//! `qnet admin` on the AWS adapters (moto: DynamoDB and the Cognito user pool),
//! from an empty table: the first organisation, the first admin invited into the
//! user pool's `admin` group, granted roles, and the invited admin creating a
//! second organisation through the API. Test names contain `moto` so nextest runs
//! them one at a time.

use qnet::admin::aws_sdk_cognitoidentityprovider as cognito;
use qnet::admin::{AdminCommand, OrganisationsCommand, RolesCommand, run};
use qnet_aws::aws_config::{self, BehaviorVersion, Region};
use qnet_domain::Role;
use serde_json::json;

#[tokio::test]
async fn moto_first_day_from_an_empty_table_to_an_admin_who_creates_an_organisation() {
    let t = qnet_tests::spawn_app_on_moto().await; // resets moto, creates the table
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(qnet_tests::moto::endpoint())
        .region(Region::new("eu-west-2"))
        .credentials_provider(cognito::config::Credentials::new("testing", "testing", None, None, "qnet-tests"))
        .load()
        .await;
    let users = cognito::Client::new(&sdk);
    let pool = users.create_user_pool().pool_name("qnet-users").send().await.expect("CreateUserPool");
    let pool = pool.user_pool().and_then(|p| p.id()).expect("a pool id").to_string();
    users.create_group().user_pool_id(&pool).group_name("admin").send().await.expect("CreateGroup");

    let list = || run(&t.app, AdminCommand::Organisations { command: OrganisationsCommand::List });
    assert_eq!(list().await.unwrap()["items"], json!([]), "an empty table");
    let create = OrganisationsCommand::Create {
        name: "Leeds Teaching Hospitals".into(),
        kind: "nhs".into(),
        ods_code: Some("RR8".into()),
        domains: vec!["leedsth.nhs.uk".into()],
    };
    let org = run(&t.app, AdminCommand::Organisations { command: create }).await.unwrap();
    assert_eq!(org["ods_code"], "RR8");

    // The first admin: the grant record, and the account in the pool's admin group.
    let email = "first.admin@example.org";
    let invited = run(&t.app, AdminCommand::InviteAdmin { email: email.into() }).await.unwrap();
    assert_eq!(invited["grant"]["role"], "admin");
    let account = qnet::admin::invite(&users, &pool, email).await.expect("AdminCreateUser and AdminAddUserToGroup");
    assert_eq!(account["group"], "admin");
    qnet::admin::invite(&users, &pool, "First.Admin@example.org").await.expect("inviting again changes nothing");
    let groups = users.admin_list_groups_for_user().user_pool_id(&pool).username(email).send().await.unwrap();
    assert_eq!(groups.groups().iter().filter_map(|g| g.group_name()).collect::<Vec<_>>(), ["admin"]);
    let user = users.admin_get_user().user_pool_id(&pool).username(email).send().await.unwrap();
    assert!(user.user_attributes().iter().any(|a| a.name() == "email" && a.value() == Some(email)));

    // Roles, granted and revoked through the same use cases as /admin/roles.
    let roles = |c| run(&t.app, AdminCommand::Roles { command: c });
    roles(RolesCommand::Grant { email: "sam@leedsth.nhs.uk".into(), role: "moderator".into() }).await.unwrap();
    assert_eq!(roles(RolesCommand::List).await.unwrap()["items"].as_array().unwrap().len(), 2);
    roles(RolesCommand::Revoke { email: "sam@leedsth.nhs.uk".into(), role: "moderator".into() }).await.unwrap();
    assert_eq!(roles(RolesCommand::List).await.unwrap()["items"][0]["email"], email);

    // The invited admin, signed in with no role in their token, creates the second
    // organisation through the API: the grant counts.
    let token = t.token(email, &[Role::Member]).await;
    let created = t
        .post(
            "/organisations",
            Some(&token),
            json!({"name": "Leeds City Council", "type": "local_authority", "email_domains": ["leeds.gov.uk"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(list().await.unwrap()["items"].as_array().unwrap().len(), 2);
}
