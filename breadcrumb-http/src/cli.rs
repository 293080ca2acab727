//! The server's command line: run the server, or manage partners and API keys on the configured
//! metadata store without starting it. Keys are printed once and stored only as hashes.

use crate::config::Config;
use crate::startup;

pub const USAGE: &str = "\
usage: server [COMMAND]

With no command, runs the server (configured by BREADCRUMB_* variables; see the README).

commands:
  partners list                              list partners (id, name, created)
  partners create <NAME>                     create a partner and print its first API key
  keys create [--partner <ID>] [--label <L>] create an API key and print it (once);
                                             --partner may be left out when there is one partner
  keys revoke <KEY | ->                      revoke an API key; `-` reads it from standard input
  help                                       show this text";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Serve,
    Help,
    ListPartners,
    CreatePartner {
        name: String,
    },
    CreateKey {
        partner: Option<String>,
        label: String,
    },
    RevokeKey {
        key: String,
    },
}

impl Command {
    pub fn parse(args: &[String]) -> Result<Command, String> {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            [] => Ok(Command::Serve),
            ["help" | "--help" | "-h"] => Ok(Command::Help),
            ["partners", "list"] => Ok(Command::ListPartners),
            ["partners", "create", name] if !name.trim().is_empty() => Ok(Command::CreatePartner {
                name: name.trim().to_string(),
            }),
            ["keys", "create", rest @ ..] => {
                let (mut partner, mut label) = (None, "cli".to_string());
                let mut it = rest.iter();
                while let Some(flag) = it.next() {
                    let value = it
                        .next()
                        .ok_or_else(|| format!("{flag} needs a value"))?
                        .to_string();
                    match *flag {
                        "--partner" => partner = Some(value),
                        "--label" => label = value,
                        other => return Err(format!("unknown option {other}")),
                    }
                }
                Ok(Command::CreateKey { partner, label })
            }
            ["keys", "revoke", key] => Ok(Command::RevokeKey {
                key: key.to_string(),
            }),
            _ => Err(format!("unknown command `{}`", words.join(" "))),
        }
    }
}

/// Runs a management command against the configured store and returns what to print.
pub async fn execute(config: &Config, command: Command) -> Result<String, String> {
    let service = startup::open_service(config).await?;
    let store = service.store();
    let err = |e: breadcrumb_core::Error| e.to_string();
    match command {
        Command::Serve => Err("`serve` is not a management command".into()),
        Command::Help => Ok(USAGE.into()),
        Command::ListPartners => {
            let partners = store.list_partners().await.map_err(err)?;
            Ok(partners
                .iter()
                .map(|p| {
                    format!(
                        "{}\t{}\t{}",
                        p.partner_id,
                        p.name,
                        p.created_at.to_rfc3339()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::CreatePartner { name } => {
            let (p, key) = service.create_partner(&name).await.map_err(err)?;
            Ok(format!(
                "partner {} created. Its API key (shown only now):\n{key}",
                p.partner_id
            ))
        }
        Command::CreateKey { partner, label } => {
            let partner_id = match partner {
                Some(id) => id,
                None => {
                    let all = store.list_partners().await.map_err(err)?;
                    match all.as_slice() {
                        [only] => only.partner_id.clone(),
                        [] => {
                            return Err("there is no partner yet: `partners create <NAME>`".into());
                        }
                        _ => {
                            return Err(
                                "there are several partners: name one with --partner <ID> (see `partners list`)"
                                    .into(),
                            );
                        }
                    }
                }
            };
            let key = service
                .create_api_key(&partner_id, &label)
                .await
                .map_err(|e| match e {
                    breadcrumb_core::Error::NotFound(_) => format!("no partner {partner_id}"),
                    other => other.to_string(),
                })?;
            Ok(format!("API key for {partner_id} (shown only now):\n{key}"))
        }
        Command::RevokeKey { key } => {
            let key = if key == "-" {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| e.to_string())?;
                line.trim().to_string()
            } else {
                key
            };
            if service.revoke_api_key(&key).await.map_err(err)? {
                Ok("revoked".into())
            } else {
                Err("no active API key matches".into())
            }
        }
    }
}
