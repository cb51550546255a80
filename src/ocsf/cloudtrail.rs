//! CloudTrail -> OCSF Authentication (3002), Account Change (3001) or API
//! Activity (6003), by `eventName` (the lists below, those of the OCSF
//! project's example mapping; `tests/data/ocsf/MAPPING-NOTES.md`).
//!
//! - The caller (`userIdentity`) is `actor` in every class; the user the
//!   event is about is `user` (required in 3001 and 3002): for an account
//!   change the target named in the response or the request, for an
//!   authentication the identity that signs in or the role assumed. An
//!   event that names none (an account-wide change, such as the password
//!   policy) has the account as its `user`.
//! - `status_id` is Failure with an `errorCode`, for `ConsoleLogin` by
//!   `responseElements.ConsoleLogin`; Success otherwise.
//! - `requestParameters` and `responseElements` become `api.request.data`
//!   and `api.response.data` as compact JSON strings, as in the OCSF
//!   examples and Security Lake's tables: their members vary by API, so
//!   an object would not fit a fixed (Parquet, Glue) schema. `api.request`
//!   requires its `uid` (`requestID`): without one, the parameters stay in
//!   `unmapped`.
//! - Nested source objects are split: the members with an OCSF attribute
//!   go there, the others to `unmapped` under the ECS path and their own
//!   names (`unmapped.aws.cloudtrail.user_identity.session_context.sessionIssuer.type`).
//! - An event that cannot fill its class's required attributes (Insights
//!   events: no `eventName`, caller or source; an API call with neither a
//!   caller nor a source) is a Base Event with all its fields in `unmapped`.
//! - `eventID` stays in `unmapped`: `metadata.uid` is the record's
//!   deterministic id (see `ocsf`).

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    enumerated, rfc3339_ms, value, Activity, Conv, Mapping, Row, ACCOUNT_CHANGE, API_ACTIVITY,
    AUTHENTICATION, BASE_EVENT, STATUSES,
};
use crate::formats::json::{Object, Text, Unmapped};
use crate::record::{compact_json, FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "CloudTrail",
    // From each event's `eventCategory` (a row).
    feature: "",
    profiles: "[\"cloud\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record                      OCSF 1.1.0 attribute               how
    ("event.action",                                "api.operation",                   Conv::Same),
    ("event.provider",                              "api.service.name",                Conv::Same),
    ("aws.cloudtrail.api_version",                  "api.version",                     Conv::Same),
    ("aws.cloudtrail.error_code",                   "api.response.error",              Conv::Same),
    ("aws.cloudtrail.error_message",                "api.response.message",            Conv::Same),
    ("aws.cloudtrail.event_version",                "metadata.product.version",        Conv::Text),
    ("aws.cloudtrail.event_type",                   "metadata.event_code",             Conv::Same),
    ("aws.cloudtrail.event_category",               "metadata.product.feature.name",   Conv::Same),
    ("cloud.account.id",                            "cloud.account.uid",               Conv::Same),
    ("cloud.region",                                "cloud.region",                    Conv::Same),
    ("source.ip",                                   "src_endpoint.ip",                 Conv::Same),
    // A service principal (`ec2.amazonaws.com`) or `AWS Internal`:
    // `domain` alone would not meet the endpoint's at_least_one.
    ("source.address",                              "src_endpoint.svc_name",           Conv::Same),
    ("aws.cloudtrail.vpc_endpoint_id",              "src_endpoint.uid",                Conv::Same),
    ("user_agent.original",                         "http_request.user_agent",         Conv::Same),
    ("aws.cloudtrail.user_identity.invoked_by",     "actor.invoked_by",                Conv::Same),
    // Set by the rules below.
    ("aws.cloudtrail.user_identity.type",           "actor.user.type",                 Conv::Rule),
    ("aws.cloudtrail.user_identity.arn",            "actor.user.uid",                  Conv::Rule),
    ("user.id",                                     "actor.user.uid_alt",              Conv::Rule),
    ("user.name",                                   "actor.user.name",                 Conv::Rule),
    ("aws.cloudtrail.user_identity.account_id",     "actor.user.account.uid",          Conv::Rule),
    ("aws.cloudtrail.user_identity.access_key_id",  "actor.user.credential_uid",       Conv::Rule),
    ("aws.cloudtrail.user_identity.session_context", "actor.session.{created_time, is_mfa, issuer}, actor.idp.name", Conv::Rule),
    ("aws.cloudtrail.user_identity.*",              "credentialId, identityProvider, webIdFederationData, onBehalfOf: actor.user, actor.idp", Conv::Rule),
    ("aws.cloudtrail.request_id",                   "api.request.uid",                 Conv::Rule),
    ("aws.cloudtrail.request_parameters",           "api.request.data (with a uid)",   Conv::Rule),
    ("aws.cloudtrail.response_elements",            "api.response.data",               Conv::Rule),
    ("aws.cloudtrail.additional_eventdata",         "3002: dst_endpoint.svc_name (LoginTo), is_mfa (MFAUsed)", Conv::Rule),
    ("aws.cloudtrail.resources",                    "6003: resources",                 Conv::Rule),
    // Repeat other fields: not written again.
    ("event.outcome",                               "(status_id)",                     Conv::Rule),
    ("event.kind",                                  "(the class)",                     Conv::Rule),
];

/// Authentication (3002) events.
const AUTHENTICATIONS: &[&str] = &[
    "ConsoleLogin",
    "ExternalIdPDirectoryLogin",
    "CheckMfa",
    "CredentialChallenge",
    "CredentialVerification",
    "UserAuthentication",
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
];

/// Account Change (3001) events: IAM users, roles, groups, their
/// credentials and policies, and the account's own settings.
const ACCOUNT_CHANGES: &[&str] = &[
    "CreateUser",
    "UpdateUser",
    "DeleteUser",
    "CreateRole",
    "UpdateRole",
    "DeleteRole",
    "UpdateRoleDescription",
    "UpdateAssumeRolePolicy",
    "CreateServiceLinkedRole",
    "DeleteServiceLinkedRole",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "DeleteLoginProfile",
    "ChangePassword",
    "PasswordUpdated",
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "AttachUserPolicy",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "DetachUserPolicy",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "PutUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "DeleteUserPolicy",
    "DeleteGroupPolicy",
    "DeleteRolePolicy",
    "DeletePolicy",
    "PutUserPermissionsBoundary",
    "PutRolePermissionsBoundary",
    "DeleteUserPermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "UpdateGroup",
    "DeleteGroup",
    "CreateInstanceProfile",
    "DeleteInstanceProfile",
    "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile",
    "EnableMFADevice",
    "DeactivateMFADevice",
    "ResyncMFADevice",
    "CreateVirtualMFADevice",
    "DeleteVirtualMFADevice",
    "RequestSmsMfaRegistration",
    "FinalizeSmsMfaRegistration",
    "CreateAccountAlias",
    "DeleteAccountAlias",
    "UpdateAccountEmailAddress",
    "EmailUpdated",
    "AccountNameUpdated",
    "UpdateAccountName",
    "UpdateAccountPasswordPolicy",
    "DeleteAccountPasswordPolicy",
    "TagUser",
    "TagRole",
    "TagInstanceProfile",
    "UntagUser",
    "UntagRole",
    "UntagInstanceProfile",
];

/// Authentication's `auth_protocol_id` captions used here.
const AUTH_PROTOCOLS: &[(u32, &str)] = &[(4, "OpenID"), (5, "SAML")];

/// The class of an event named `name`.
fn class_of(name: &str) -> u32 {
    if AUTHENTICATIONS.contains(&name) {
        AUTHENTICATION
    } else if ACCOUNT_CHANGES.contains(&name) {
        ACCOUNT_CHANGE
    } else {
        API_ACTIVITY
    }
}

/// API Activity's activity: by the verb the name starts with (`Batch`
/// skipped), not by a word anywhere in it (`ListTagsForResource` reads).
fn api_activity(name: &str) -> u32 {
    let mut verb = first_word(name);
    if verb == "Batch" {
        verb = first_word(&name[verb.len()..]);
    }
    match verb {
        "Create" | "Run" | "Generate" => 1,
        "Get" | "List" | "Describe" | "Search" | "Lookup" | "Head" => 2,
        "Update" | "Put" | "Modify" | "Add" | "Remove" | "Start" | "Stop" | "Attach" | "Detach"
        | "Associate" | "Disassociate" | "Tag" | "Untag" | "Enable" | "Disable" | "Register"
        | "Deregister" => 3,
        "Delete" | "Terminate" => 4,
        _ => 99,
    }
}

/// `GetObject` -> `Get`: up to the next capital letter.
fn first_word(name: &str) -> &str {
    let end = name
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(name.len(), |(i, _)| i);
    &name[..end]
}

/// Account Change's activity. `status` is `UpdateAccessKey`'s new status.
fn account_change(name: &str, status: Option<&str>) -> u32 {
    match name {
        "EnableMFADevice" => 10,
        "DeactivateMFADevice" => 11,
        "ChangePassword" | "PasswordUpdated" => 3,
        // An administrator sets another user's password.
        "UpdateLoginProfile" => 4,
        "AddUserToGroup" => 7,
        "RemoveUserFromGroup" => 8,
        "UpdateAccessKey" => match status {
            Some("Active") => 2,
            Some("Inactive") => 5,
            _ => 99,
        },
        // Removing an inline policy or a boundary is detaching it.
        "DeleteUserPolicy"
        | "DeleteGroupPolicy"
        | "DeleteRolePolicy"
        | "DeleteUserPermissionsBoundary"
        | "DeleteRolePermissionsBoundary" => 8,
        _ if name.starts_with("Attach") || name.starts_with("Put") => 7,
        _ if name.starts_with("Detach") => 8,
        _ if name.starts_with("Create") => 1,
        // The account's alias or password policy: not an account deleted.
        _ if name.starts_with("DeleteAccount") => 99,
        _ if name.starts_with("Delete") => 6,
        _ => 99,
    }
}

/// Authentication's activity: a sign-in or a role assumed is a logon.
fn authentication(name: &str) -> u32 {
    match name {
        "ConsoleLogin" | "ExternalIdPDirectoryLogin" | "UserAuthentication" => 1,
        _ if name.starts_with("AssumeRole") => 1,
        _ => 99,
    }
}

const REQUEST: &str = "aws.cloudtrail.request_parameters";
const RESPONSE: &str = "aws.cloudtrail.response_elements";
const ADDITIONAL: &str = "aws.cloudtrail.additional_eventdata";
const RESOURCES: &str = "aws.cloudtrail.resources";
const SESSION_CONTEXT: &str = "aws.cloudtrail.user_identity.session_context";
const IDENTITY_MEMBERS: &str = "aws.cloudtrail.user_identity.*";

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    let Some(name) = cow(ev, "event.action") else {
        // Insights events: their API is in insightDetails, and they have
        // neither caller nor source.
        return Activity::of(BASE_EVENT, 0);
    };
    let class = class_of(&name);
    let has_source = [
        "source.ip",
        "source.address",
        "aws.cloudtrail.vpc_endpoint_id",
    ]
    .iter()
    .any(|p| ev.fields.get(p).is_some());
    let invoked_by = value(ev, "aws.cloudtrail.user_identity.invoked_by");
    let cannot = match class {
        API_ACTIVITY => !has_actor(ev) || (!has_source && invoked_by.is_none()),
        // `user` falls back to the account, which every trail records.
        _ => account(ev).is_none(),
    };
    if cannot {
        return Activity::of(BASE_EVENT, 0);
    }
    if !has_source {
        // The service that made the call on the caller's behalf.
        if let Some(service) = invoked_by {
            f.push("src_endpoint.svc_name", service);
        }
    }
    let request = raw(ev, REQUEST);
    let response = raw(ev, RESPONSE);
    actor(ev, f);
    api(ev, f, request, response);
    let failed = match (&*name, response.and_then(console_login)) {
        ("ConsoleLogin", Some(failed)) => failed,
        _ => ev.fields.get("aws.cloudtrail.error_code").is_some(),
    };
    enumerated(
        f,
        "status_id",
        "status",
        if failed { 2 } else { 1 },
        STATUSES,
    );
    let activity = match class {
        AUTHENTICATION => {
            authenticated_user(ev, f, &name, request, response);
            additional_event_data(ev, f);
            if let Some(service) = value(ev, "event.provider") {
                f.push("service.name", service);
            }
            match &*name {
                "AssumeRoleWithSAML" => {
                    enumerated(f, "auth_protocol_id", "auth_protocol", 5, AUTH_PROTOCOLS)
                }
                "AssumeRoleWithWebIdentity" => {
                    enumerated(f, "auth_protocol_id", "auth_protocol", 4, AUTH_PROTOCOLS)
                }
                _ => {}
            }
            unmapped_raw(ev, f, RESOURCES);
            authentication(&name)
        }
        ACCOUNT_CHANGE => {
            let request = request.and_then(|r| serde_json::from_str::<Request>(r.get()).ok());
            let response = response.and_then(|r| serde_json::from_str::<Response>(r.get()).ok());
            let status = request.as_ref().and_then(|r| r.status.as_ref());
            let activity = account_change(&name, status.map(|s| &*s.0));
            changed_user(ev, f, &name, request, response);
            unmapped_raw(ev, f, ADDITIONAL);
            unmapped_raw(ev, f, RESOURCES);
            activity
        }
        _ => {
            resources(ev, f);
            unmapped_raw(ev, f, ADDITIONAL);
            api_activity(&name)
        }
    };
    if activity == 99 {
        Activity::other(class, name)
    } else {
        Activity::of(class, activity)
    }
}

/// A text field of `ev`, borrowed as the event borrows it.
fn cow<'a>(ev: &ParsedEvent<'a>, path: &str) -> Option<Cow<'a, str>> {
    match ev.fields.get(path)? {
        FieldValue::Str(s) => Some(s.clone()),
        _ => None,
    }
}

/// A pass-through JSON field of `ev`.
fn raw<'a>(ev: &ParsedEvent<'a>, path: &str) -> Option<&'a RawValue> {
    match ev.fields.get(path)? {
        FieldValue::Raw(r) => Some(*r),
        _ => None,
    }
}

/// Keeps the pass-through field `path` under `unmapped`.
fn unmapped_raw<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>, path: &'static str) {
    if let Some(r) = raw(ev, path) {
        f.raw(super::unmapped(path), r);
    }
}

/// The caller's `actor.user` attributes, which need one of account, name
/// or uid to make a valid user.
const ACTOR_USER: [(&str, &str); 6] = [
    ("aws.cloudtrail.user_identity.type", "actor.user.type"),
    ("aws.cloudtrail.user_identity.arn", "actor.user.uid"),
    ("user.id", "actor.user.uid_alt"),
    ("user.name", "actor.user.name"),
    (
        "aws.cloudtrail.user_identity.account_id",
        "actor.user.account.uid",
    ),
    (
        "aws.cloudtrail.user_identity.access_key_id",
        "actor.user.credential_uid",
    ),
];

/// Whether the event names its caller well enough for `actor`.
fn has_actor(ev: &ParsedEvent<'_>) -> bool {
    has_actor_user(ev)
        || ev
            .fields
            .get("aws.cloudtrail.user_identity.invoked_by")
            .is_some()
}

fn has_actor_user(ev: &ParsedEvent<'_>) -> bool {
    [
        "aws.cloudtrail.user_identity.arn",
        "user.name",
        "aws.cloudtrail.user_identity.account_id",
    ]
    .iter()
    .any(|p| ev.fields.get(p).is_some())
}

/// `actor`: the user (when it can be one), its session and identity
/// provider, from `userIdentity`.
fn actor<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    let user = has_actor_user(ev);
    for (from, to) in ACTOR_USER {
        if let Some(v) = value(ev, from) {
            // A user with only a type (`AWSService`) is no valid user.
            let to = if user { to } else { super::unmapped(from) };
            f.push(to, v);
        }
    }
    let mut idp_name = false;
    if let Some(context) = raw(ev, SESSION_CONTEXT) {
        session_context(context, f, &mut idp_name);
    }
    if let Some(FieldValue::Members(members)) = ev.fields.get(IDENTITY_MEMBERS) {
        identity_members(ev, members, f, user, &mut idp_name);
    }
}

/// `sessionContext`: the session's creation time, MFA and issuer; a web
/// identity's provider.
fn session_context<'a>(context: &'a RawValue, f: &mut Fields<'a>, idp_name: &mut bool) {
    let Some(mut context) = Object::of(context) else {
        f.raw(super::unmapped(SESSION_CONTEXT), context);
        return;
    };
    let attributes = context.take::<&RawValue>("attributes");
    let issuer = context.take::<&RawValue>("sessionIssuer");
    let web_id = context.take::<&RawValue>("webIdFederationData");
    let mut rest = context.rest();
    nested(
        attributes,
        "attributes",
        &mut rest,
        f,
        "unmapped.aws.cloudtrail.user_identity.session_context.attributes.*",
        |o, f| {
            if let Some(Millis(ms)) = o.take("creationDate") {
                f.i64("actor.session.created_time", ms);
            }
            if let Some(Flag(mfa)) = o.take("mfaAuthenticated") {
                f.bool("actor.session.is_mfa", mfa);
            }
        },
    );
    nested(
        issuer,
        "sessionIssuer",
        &mut rest,
        f,
        "unmapped.aws.cloudtrail.user_identity.session_context.sessionIssuer.*",
        |o, f| {
            if let Some(Text(arn)) = o.take("arn") {
                f.str("actor.session.issuer", arn);
            }
        },
    );
    nested(
        web_id,
        "webIdFederationData",
        &mut rest,
        f,
        "unmapped.aws.cloudtrail.user_identity.session_context.webIdFederationData.*",
        |o, f| {
            if let Some(Text(provider)) = o.take("federatedProvider") {
                f.str("actor.idp.name", provider);
                *idp_name = true;
            }
        },
    );
    f.members(
        "unmapped.aws.cloudtrail.user_identity.session_context.*",
        rest,
    );
}

/// Maps the members of the nested object `raw` (the member `name` of its
/// parent) with `take`, and keeps the others under `rest_path`; a member
/// that is not an object stays in the parent's `rest`.
fn nested<'a>(
    raw: Option<&'a RawValue>,
    name: &'static str,
    rest: &mut Unmapped<'a>,
    f: &mut Fields<'a>,
    rest_path: &'static str,
    take: impl FnOnce(&mut Object<'a>, &mut Fields<'a>),
) {
    let Some(raw) = raw else { return };
    match Object::of(raw) {
        Some(mut object) => {
            take(&mut object, f);
            f.members(rest_path, object.rest());
        }
        None => rest.push((Cow::Borrowed(name), raw)),
    }
}

/// `userIdentity` members without an ECS place: Identity Center's
/// `credentialId` and `onBehalfOf`, a federated user's
/// `identityProvider` and `webIdFederationData`.
fn identity_members<'a>(
    ev: &ParsedEvent<'a>,
    members: &Unmapped<'a>,
    f: &mut Fields<'a>,
    user: bool,
    idp_name: &mut bool,
) {
    let mut rest = Unmapped::new();
    let mut credential = ev
        .fields
        .get("aws.cloudtrail.user_identity.access_key_id")
        .is_some();
    let mut uid_alt = ev.fields.get("user.id").is_some();
    let mut idp_uid = false;
    for (name, raw) in members.iter() {
        let raw: &'a RawValue = raw;
        let text = || {
            serde_json::from_str::<Text<'a>>(raw.get())
                .ok()
                .map(|t| t.0)
        };
        match &**name {
            "credentialId" if user && !credential => match text() {
                Some(id) => {
                    f.str("actor.user.credential_uid", id);
                    credential = true;
                }
                None => rest.push((name.clone(), raw)),
            },
            "identityProvider" if !*idp_name => match text() {
                Some(idp) => {
                    f.str("actor.idp.name", idp);
                    *idp_name = true;
                }
                None => rest.push((name.clone(), raw)),
            },
            "webIdFederationData" if !*idp_name => nested(
                Some(raw),
                "webIdFederationData",
                &mut rest,
                f,
                "unmapped.aws.cloudtrail.user_identity.webIdFederationData.*",
                |o, f| {
                    if let Some(Text(provider)) = o.take("federatedProvider") {
                        f.str("actor.idp.name", provider);
                        *idp_name = true;
                    }
                },
            ),
            "onBehalfOf" => nested(
                Some(raw),
                "onBehalfOf",
                &mut rest,
                f,
                "unmapped.aws.cloudtrail.user_identity.onBehalfOf.*",
                |o, f| {
                    if user && !uid_alt {
                        if let Some(Text(id)) = o.take("userId") {
                            f.str("actor.user.uid_alt", id);
                            uid_alt = true;
                        }
                    }
                    if !idp_uid {
                        if let Some(Text(store)) = o.take("identityStoreArn") {
                            f.str("actor.idp.uid", store);
                            idp_uid = true;
                        }
                    }
                },
            ),
            _ => rest.push((name.clone(), raw)),
        }
    }
    f.members("unmapped.aws.cloudtrail.user_identity.*", rest);
}

/// `api`: the request (with its uid) and the response.
fn api<'a>(
    ev: &ParsedEvent<'a>,
    f: &mut Fields<'a>,
    request: Option<&'a RawValue>,
    response: Option<&'a RawValue>,
) {
    match value(ev, "aws.cloudtrail.request_id") {
        Some(uid) => {
            f.push("api.request.uid", uid);
            if let Some(r) = request {
                f.str("api.request.data", compact_json(r.get()));
            }
        }
        None => unmapped_raw(ev, f, REQUEST),
    }
    if let Some(r) = response {
        f.str("api.response.data", compact_json(r.get()));
    }
}

/// `responseElements.ConsoleLogin`: whether the sign-in failed.
fn console_login(response: &RawValue) -> Option<bool> {
    #[derive(Deserialize)]
    struct Login<'a> {
        #[serde(borrow, rename = "ConsoleLogin")]
        console_login: Option<Text<'a>>,
    }
    let login = serde_json::from_str::<Login>(response.get()).ok()?;
    match &*login.console_login?.0 {
        "Success" => Some(false),
        "Failure" => Some(true),
        _ => None,
    }
}

/// The members of `requestParameters` that name the user.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    #[serde(borrow)]
    user_name: Option<Text<'a>>,
    #[serde(borrow)]
    role_name: Option<Text<'a>>,
    #[serde(borrow)]
    role_arn: Option<Text<'a>>,
    #[serde(borrow)]
    role_session_name: Option<Text<'a>>,
    /// `UpdateAccessKey`'s `Active` or `Inactive`.
    #[serde(borrow)]
    status: Option<Text<'a>>,
}

/// The members of `responseElements` that name the user.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    #[serde(borrow)]
    user: Option<Principal<'a>>,
    #[serde(borrow)]
    role: Option<Principal<'a>>,
    #[serde(borrow)]
    access_key: Option<Principal<'a>>,
    /// AssumeRole*: the session.
    #[serde(borrow)]
    assumed_role_user: Option<Principal<'a>>,
    #[serde(borrow)]
    credentials: Option<Principal<'a>>,
}

/// A user, role, access key or role session of a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Principal<'a> {
    #[serde(borrow)]
    user_name: Option<Text<'a>>,
    #[serde(borrow)]
    role_name: Option<Text<'a>>,
    #[serde(borrow)]
    user_id: Option<Text<'a>>,
    #[serde(borrow)]
    role_id: Option<Text<'a>>,
    #[serde(borrow)]
    assumed_role_id: Option<Text<'a>>,
    #[serde(borrow)]
    access_key_id: Option<Text<'a>>,
    #[serde(borrow)]
    arn: Option<Text<'a>>,
}

fn opt_text<'a>(f: &mut Fields<'a>, path: &'static str, t: Option<Text<'a>>) -> bool {
    match t.map(|t| t.0).filter(|s| !s.is_empty()) {
        Some(s) => {
            f.str(path, s);
            true
        }
        None => false,
    }
}

/// Account Change's `user`: the user or role the response or the request
/// names; the caller for a change of one's own password; else the account.
fn changed_user<'a>(
    ev: &ParsedEvent<'a>,
    f: &mut Fields<'a>,
    name: &str,
    request: Option<Request<'a>>,
    response: Option<Response<'a>>,
) {
    let (mut request_user, mut request_role) = (None, None);
    if let Some(r) = request {
        (request_user, request_role) = (r.user_name, r.role_name);
    }
    let mut named = false;
    if let Some(r) = response {
        if let Some(key) = r.access_key {
            opt_text(f, "user.credential_uid", key.access_key_id);
            request_user = request_user.or(key.user_name);
        }
        let target = match (r.user, r.role) {
            (Some(user), _) => Some((user, "IAMUser")),
            (None, Some(role)) => Some((role, "Role")),
            _ => None,
        };
        if let Some((p, kind)) = target {
            named |= opt_text(f, "user.uid", p.arn);
            opt_text(f, "user.uid_alt", p.user_id.or(p.role_id));
            let name = p.user_name.or(p.role_name);
            named |= opt_text(f, "user.name", name.or(request_user.take()));
            if named {
                f.str("user.type", kind);
            }
        }
    }
    if named {
        return;
    }
    let kind = if request_user.is_some() {
        Some("IAMUser")
    } else if request_role.is_some() {
        Some("Role")
    } else {
        None
    };
    if opt_text(f, "user.name", request_user.or(request_role)) {
        if let Some(kind) = kind {
            f.str("user.type", kind);
        }
        return;
    }
    if matches!(name, "ChangePassword" | "PasswordUpdated") && caller_as_user(ev, f) {
        return;
    }
    account_as_user(ev, f);
}

/// The caller as `user`: `false` when it cannot be one.
fn caller_as_user<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> bool {
    if !has_actor_user(ev) {
        return false;
    }
    for (from, to) in [
        ("aws.cloudtrail.user_identity.type", "user.type"),
        ("aws.cloudtrail.user_identity.arn", "user.uid"),
        ("user.id", "user.uid_alt"),
        ("user.name", "user.name"),
        (
            "aws.cloudtrail.user_identity.account_id",
            "user.account.uid",
        ),
    ] {
        if let Some(v) = value(ev, from) {
            f.push(to, v);
        }
    }
    true
}

/// The account the event was recorded for as `user` (an account-wide
/// change, or an event that names no one).
fn account_as_user<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    if let Some(account) = account(ev) {
        f.push("user.account.uid", account);
    }
}

/// The account the event was recorded for, else the caller's.
fn account<'a>(ev: &ParsedEvent<'a>) -> Option<FieldValue<'a>> {
    value(ev, "cloud.account.id").or_else(|| value(ev, "aws.cloudtrail.user_identity.account_id"))
}

/// Authentication's `user`: the role a session was assumed in (its ARN,
/// the session's name and id), else the identity that signed in.
fn authenticated_user<'a>(
    ev: &ParsedEvent<'a>,
    f: &mut Fields<'a>,
    name: &str,
    request: Option<&'a RawValue>,
    response: Option<&'a RawValue>,
) {
    if name.starts_with("AssumeRole") {
        let request = request.and_then(|r| serde_json::from_str::<Request>(r.get()).ok());
        let response = response.and_then(|r| serde_json::from_str::<Response>(r.get()).ok());
        let mut named = false;
        if let Some(r) = request {
            named |= opt_text(f, "user.uid", r.role_arn);
            named |= opt_text(f, "user.name", r.role_session_name);
        }
        if let Some(r) = response {
            if let Some(session) = r.assumed_role_user {
                opt_text(f, "user.uid_alt", session.assumed_role_id);
            }
            if let Some(credentials) = r.credentials {
                opt_text(f, "user.credential_uid", credentials.access_key_id);
            }
        }
        if named {
            f.str("user.type", "AssumedRole");
            return;
        }
    }
    if caller_as_user(ev, f) {
        return;
    }
    account_as_user(ev, f);
}

/// Authentication's `additionalEventData`: the sign-in's destination and
/// MFA; the rest in `unmapped`.
fn additional_event_data<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    let Some(data) = raw(ev, ADDITIONAL) else {
        return;
    };
    let mut rest = Unmapped::new();
    nested(
        Some(data),
        "additional_eventdata",
        &mut rest,
        f,
        "unmapped.aws.cloudtrail.additional_eventdata.*",
        |o, f| {
            if let Some(Text(to)) = o.take("LoginTo") {
                f.str("dst_endpoint.svc_name", to);
            }
            if let Some(Flag(mfa)) = o.take("MFAUsed") {
                f.bool("is_mfa", mfa);
            }
        },
    );
    // Not an object: kept whole.
    if !rest.is_empty() {
        f.raw(super::unmapped(ADDITIONAL), data);
    }
}

/// API Activity's `resources`, from CloudTrail's (`ARN`, `accountId`,
/// `type`). An element with other members or without an ARN (OCSF needs
/// a uid or name) keeps the source array in `unmapped` too.
fn resources<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    let Some(source) = raw(ev, RESOURCES) else {
        return;
    };
    let Ok(elements) = serde_json::from_str::<Vec<&RawValue>>(source.get()) else {
        f.raw(super::unmapped(RESOURCES), source);
        return;
    };
    let mut out = String::from("[");
    let mut complete = true;
    for element in elements {
        let Some(mut o) = Object::of(element) else {
            complete = false;
            continue;
        };
        let Some(Text(uid)) = o.take::<Text>("ARN") else {
            complete = false;
            continue;
        };
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str("{\"uid\":");
        push_json_str(&mut out, &uid);
        if let Some(Text(kind)) = o.take::<Text>("type") {
            out.push_str(",\"type\":");
            push_json_str(&mut out, &kind);
        }
        if let Some(Text(account)) = o.take::<Text>("accountId") {
            out.push_str(",\"owner\":{\"account\":{\"uid\":");
            push_json_str(&mut out, &account);
            out.push_str("}}");
        }
        out.push('}');
        complete &= o.rest().is_empty();
    }
    out.push(']');
    if out.len() > 2 {
        f.push("resources", FieldValue::JsonText(out));
    }
    if !complete {
        f.raw(super::unmapped(RESOURCES), source);
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // A string always serializes.
    if let Ok(json) = serde_json::to_string(s) {
        out.push_str(&json);
    }
}

/// An RFC 3339 time as milliseconds; anything else is not one (and stays
/// where it was).
struct Millis(i64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(t) = Text::deserialize(d)?;
        rfc3339_ms(&t)
            .map(Millis)
            .ok_or_else(|| de::Error::custom("not an RFC 3339 time"))
    }
}

/// CloudTrail's yes/no: `true`/`false` (as text or JSON) or `Yes`/`No`.
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(t) = Text::deserialize(d)?;
        match &*t {
            "true" | "Yes" => Ok(Flag(true)),
            "false" | "No" => Ok(Flag(false)),
            _ => Err(de::Error::custom("not a yes or no")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_event_name() {
        assert_eq!(class_of("ConsoleLogin"), AUTHENTICATION);
        assert_eq!(class_of("AssumeRoleWithSAML"), AUTHENTICATION);
        assert_eq!(class_of("CreateUser"), ACCOUNT_CHANGE);
        assert_eq!(class_of("UntagInstanceProfile"), ACCOUNT_CHANGE);
        assert_eq!(class_of("GetObject"), API_ACTIVITY);
        assert_eq!(class_of("ListUsers"), API_ACTIVITY);
    }

    #[test]
    fn api_activities_go_by_the_leading_verb() {
        for (name, id) in [
            ("RunInstances", 1),
            ("GenerateDataKey", 1),
            ("DescribeDirectConnectGateways", 2),
            ("ListTagsForResource", 2),
            ("BatchGetItem", 2),
            ("HeadObject", 2),
            ("PutObject", 3),
            ("UntagResource", 3),
            ("StartInstances", 3),
            ("TerminateInstances", 4),
            ("BatchDeleteImage", 4),
            ("Decrypt", 99),
            ("ConsoleLogin", 99),
            ("", 99),
        ] {
            assert_eq!(api_activity(name), id, "{name}");
        }
    }

    #[test]
    fn account_changes_have_their_own_activities() {
        for (name, status, id) in [
            ("CreateUser", None, 1),
            ("CreateAccessKey", None, 1),
            ("UpdateAccessKey", Some("Active"), 2),
            ("UpdateAccessKey", Some("Inactive"), 5),
            ("UpdateAccessKey", None, 99),
            ("ChangePassword", None, 3),
            ("UpdateLoginProfile", None, 4),
            ("DeleteUser", None, 6),
            ("DeleteServiceLinkedRole", None, 6),
            ("DeleteAccountAlias", None, 99),
            ("AttachRolePolicy", None, 7),
            ("PutUserPermissionsBoundary", None, 7),
            ("AddUserToGroup", None, 7),
            ("DetachUserPolicy", None, 8),
            ("DeleteRolePolicy", None, 8),
            ("RemoveUserFromGroup", None, 8),
            ("RemoveRoleFromInstanceProfile", None, 99),
            ("EnableMFADevice", None, 10),
            ("DeactivateMFADevice", None, 11),
            ("ResyncMFADevice", None, 99),
            ("TagRole", None, 99),
        ] {
            assert_eq!(account_change(name, status), id, "{name}");
        }
    }

    #[test]
    fn authentications_are_logons_or_other() {
        assert_eq!(authentication("ConsoleLogin"), 1);
        assert_eq!(authentication("AssumeRoleWithWebIdentity"), 1);
        assert_eq!(authentication("CheckMfa"), 99);
    }

    #[test]
    fn every_listed_name_selects_its_class_once() {
        for name in ACCOUNT_CHANGES {
            assert!(!AUTHENTICATIONS.contains(name), "{name}");
        }
        let mut all: Vec<&str> = ACCOUNT_CHANGES
            .iter()
            .chain(AUTHENTICATIONS)
            .copied()
            .collect();
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n, "a name is listed twice");
    }

    #[test]
    fn auth_protocol_captions_agree_with_the_ocsf_schema() {
        let schema = crate::ocsf::testing::schema();
        let protocols =
            &schema["classes"]["authentication"]["attributes"]["auth_protocol_id"]["enum"];
        for (id, caption) in AUTH_PROTOCOLS {
            assert_eq!(protocols[id.to_string()]["caption"], *caption);
        }
    }

    #[test]
    fn yes_no_and_times_are_read_or_left_alone() {
        let flag = |j: &str| serde_json::from_str::<Flag>(j).ok().map(|f| f.0);
        assert_eq!(flag("\"Yes\""), Some(true));
        assert_eq!(flag("\"false\""), Some(false));
        assert_eq!(flag("true"), Some(true));
        assert_eq!(flag("\"maybe\""), None);
        let ms = |j: &str| serde_json::from_str::<Millis>(j).ok().map(|m| m.0);
        assert_eq!(ms("\"2023-11-17T16:43:57Z\""), Some(1_700_239_437_000));
        assert_eq!(ms("\"Mar 17, 2023\""), None);
    }
}
