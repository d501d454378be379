//! `Project.containerTagsExpirationPolicy`: the cleanup policy through GraphQL.
//!
//! Everyone who may read the registry sees whether the policy is on and when it runs next;
//! its rules (cadence, keep, age, regexes) are null below Maintainer, as in GitLab since the
//! type replaced `containerExpirationPolicy` (17.5).

use async_graphql::{Context, Enum, Object};

use super::ctx;
use super::types::Time;
use crate::clock;
use crate::model::{access, ExpirationPolicy};

/// `ContainerExpirationPolicyCadenceEnum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerExpirationPolicyCadenceEnum")]
#[allow(clippy::enum_variant_names)] // GitLab's names
pub(crate) enum CadenceEnum {
    EveryDay,
    EveryWeek,
    EveryTwoWeeks,
    EveryMonth,
    EveryThreeMonths,
}

/// `ContainerExpirationPolicyKeepEnum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerExpirationPolicyKeepEnum")]
pub(crate) enum KeepEnum {
    OneTag,
    FiveTags,
    TenTags,
    TwentyFiveTags,
    FiftyTags,
    OneHundredTags,
}

/// `ContainerExpirationPolicyOlderThanEnum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerExpirationPolicyOlderThanEnum")]
#[allow(clippy::enum_variant_names)] // GitLab's names
pub(crate) enum OlderThanEnum {
    SevenDays,
    FourteenDays,
    ThirtyDays,
    SixtyDays,
    NinetyDays,
}

/// `ContainerTagsExpirationPolicy` of one project, for one viewer.
pub(crate) struct TagsExpirationPolicy {
    pub policy: ExpirationPolicy,
    /// The viewer's role in the project.
    pub level: u8,
}

impl TagsExpirationPolicy {
    /// The rules, for Maintainers and above only.
    fn rules(&self) -> Option<&ExpirationPolicy> {
        (self.level >= access::MAINTAINER).then_some(&self.policy)
    }
}

#[Object(name = "ContainerTagsExpirationPolicy")]
impl TagsExpirationPolicy {
    /// Whether the policy runs.
    async fn enabled(&self) -> bool {
        self.policy.enabled
    }

    /// Next time the policy runs.
    async fn next_run_at(&self) -> Option<Time> {
        self.policy.next_run_at.map(|t| Time(clock::graphql(t)))
    }

    /// Schedule of the policy (null below Maintainer).
    async fn cadence(&self) -> Option<CadenceEnum> {
        Some(match self.rules()?.cadence.as_str() {
            "1d" => CadenceEnum::EveryDay,
            "7d" => CadenceEnum::EveryWeek,
            "14d" => CadenceEnum::EveryTwoWeeks,
            "1month" => CadenceEnum::EveryMonth,
            "3month" => CadenceEnum::EveryThreeMonths,
            _ => return None,
        })
    }

    /// Tags to keep (null below Maintainer).
    async fn keep_n(&self) -> Option<KeepEnum> {
        Some(match self.rules()?.keep_n? {
            1 => KeepEnum::OneTag,
            5 => KeepEnum::FiveTags,
            10 => KeepEnum::TenTags,
            25 => KeepEnum::TwentyFiveTags,
            50 => KeepEnum::FiftyTags,
            100 => KeepEnum::OneHundredTags,
            _ => return None,
        })
    }

    /// Tags older than this are deleted (null below Maintainer).
    async fn older_than(&self) -> Option<OlderThanEnum> {
        Some(match self.rules()?.older_than.as_deref()? {
            "7d" => OlderThanEnum::SevenDays,
            "14d" => OlderThanEnum::FourteenDays,
            "30d" => OlderThanEnum::ThirtyDays,
            "60d" => OlderThanEnum::SixtyDays,
            "90d" => OlderThanEnum::NinetyDays,
            _ => return None,
        })
    }

    /// Tags whose names match are deleted (null below Maintainer).
    async fn name_regex(&self) -> Option<String> {
        self.rules()?.name_regex.clone()
    }

    /// Tags whose names match are kept (null below Maintainer).
    async fn name_regex_keep(&self) -> Option<String> {
        self.rules()?.name_regex_keep.clone()
    }

    /// When the policy was last changed.
    async fn updated_at(&self) -> Time {
        Time(clock::graphql(self.policy.updated_at))
    }
}

/// The policy of `project` as `c`'s viewer sees it; null without registry access.
pub(crate) fn for_viewer(
    c: &Context<'_>,
    project: &crate::model::Project,
) -> Option<TagsExpirationPolicy> {
    let cx = ctx(c);
    cx.world
        .can_read_registry(cx.user, project)
        .then(|| TagsExpirationPolicy {
            policy: project.policy.clone(),
            level: if cx.world.is_admin(cx.user) {
                crate::model::access::ADMIN
            } else {
                cx.world.project_access(cx.user, project)
            },
        })
}
