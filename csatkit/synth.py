"""Synthetic linked contact-centre data with known truth, for demos, notebooks and tests.

:func:`generate` draws three linked tables in the canonical schemas of :mod:`csatkit.schema`
(contact log, survey responses in long form, QA evaluations) from a fully specified model, and
returns the parameters of that model together with the population-level rates they imply
(:class:`Truth`), so that a test can check that an estimator recovers them.

The model
---------
Contacts
    First contacts arrive over ``quarters`` quarters from ``start`` with a mild seasonal pattern
    (a January peak, quiet weekends, office hours). Each has a channel (phone, email, chat,
    social, in_app, sms, with unequal volumes), a contact reason (12 reasons) drawn from a
    channel-specific mix (complaints and cancellations over-represented on phone and social,
    order status on sms and in-app), a customer (a pool in three activity segments, so repeat
    customers exist) and an agent (60 agents, each tied to one channel, in six teams of ten; the
    agents' random effects and skills are standardised within each channel, so that channel levels
    hardly depend on the seed). First-response times are
    log-normal around a channel median (a minute or two on phone and chat, 45 minutes on social,
    six hours on email). A contact that is not resolved is followed, within seven days, by a
    *repeat contact* of the same customer about the same reason (sometimes on another channel),
    up to three times; whether it is resolved depends on the reason and on the QA item
    ``resolution`` of the interaction.

Interaction quality (QA items)
    Every contact has ten scorecard items (five scored 0-2, five scored 1-5) obtained by cutting a
    standard-normal latent quality ``q_k = loading_k * skill(agent) + 0.5 * common + e_k`` at
    fixed thresholds, so items are correlated through the agent's skill and the interaction's
    common factor. A ``qa_share`` sample of contacts is evaluated; an evaluator's leniency adds
    a known offset to the latent quality before it is cut, so lenient evaluators score higher.

Satisfaction
    The logit of "satisfied" (4-5 on the 1-5 question) is ::

        eta = channel_logit[channel] + reason_logit[reason] + agent_effects[agent]
              + sum_k item_effects[k] * (item_k - item_centres[k])
              + trend_per_quarter * quarters_since_start
              + frt_effect * log2(first_response_minutes / frt_median_minutes[channel])
              + repeat_logit * repeat_contact

    The 1-5 answer follows a cumulative-logit (proportional-odds) model on the latent
    ``y = eta + e`` (``e`` standard logistic): ``P(score > j) = expit(eta - cutpoints[j-1])``,
    with ``cutpoints[2] == 0`` so that ``P(score >= 4) = expit(eta)`` exactly. The 0-10
    recommendation (NPS) and 1-7 effort (CES, 7 = easy) answers follow the same kind of model
    with their own cutpoints and errors correlated with ``e`` through a Gaussian copula, so each
    is exactly cumulative-logit in ``eta`` on its own.

Surveys
    A survey is sent after most contacts (channel-specific rates); a fatigue rule suppresses it,
    with probability ``fatigue_prob``, when the same customer had another contact in the previous
    ``fatigue_days`` days, so repeat contacts (which are less satisfied) are under-surveyed. A sent
    survey is answered with a channel-specific probability that does not depend on satisfaction
    (missing at random given the channel). Each answered survey contributes three rows (likert5,
    nps, ces7) sharing one ``response_id``; an unanswered one contributes one likert5 row with a
    missing score.

Churn
    ``churned`` (the customer closed the account within 90 days of this contact) is drawn from
    ``logit P = intercept + dissatisfied * (not satisfied) + cancellation * (reason is
    cancellation) + repeat_contact * (repeat contact)`` where "satisfied" is the latent answer
    (``y > 0``) that an answered survey reports, so a logistic regression of ``churned`` on the
    reported satisfaction recovers ``churn_coef`` on respondents.

The truth
    :class:`Truth` holds every parameter above and the rates they imply for the generated data:
    expected CSAT, NPS, CES per channel, reason x channel cell, quarter and agent, weighted like
    the responses (so an observed rate lies within sampling error of its truth), plus the same
    over all contacts (``_all``) and mix-standardised channel rates for gap analysis.

Defaults cover 2024Q4 to 2026Q4 (nine quarters), so an eight-quarter trend ending with the demo
quarter 2026Q3 is covered. Everything is vectorised numpy: a million contacts take a few seconds, ten million
about 40 seconds and under 5 GB. The same ``seed`` gives identical tables; the agents,
evaluators and their effects depend on the seed only, not on ``n_contacts``.

Examples
--------
>>> from csatkit.synth import generate
>>> data = generate(2_000, seed=1)
>>> sorted(data.contacts["channel"].unique())
['chat', 'email', 'in_app', 'phone', 'sms', 'social']
>>> data.truth.cutpoints
(-2.0, -1.0, 0.0, 1.3)
>>> round(data.truth.item_effects["item_compliance"], 2)
0.0
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit, logit, ndtr, ndtri

from ._validate import check_choice, check_range
from .exceptions import ParameterError
from .periods import Period
from .schema import CONTACT_COLUMNS, ITEM_PREFIX, QA_COLUMNS, RESPONSE_COLUMNS

__all__ = ["generate", "demo", "SynthData", "Truth", "CHANNELS", "REASONS", "ITEMS", "TEAMS", "EVALUATORS"]

# ----------------------------------------------------------------------------------------------
# fixed model parameters (the seed draws agent and evaluator effects; everything else is here)

CHANNELS = ("phone", "email", "chat", "social", "in_app", "sms")
"""The six channels, in the order used by every table of the truth."""

REASONS = (
    "billing", "technical_issue", "cancellation", "order_status", "refund", "account_access",
    "product_question", "complaint", "delivery_problem", "plan_change", "payment_failure", "general_enquiry",
)  # fmt: skip
"""The twelve contact reasons."""

TEAMS = tuple(f"Team {k}" for k in range(1, 7))
"""Six teams of ten agents each."""

EVALUATORS = tuple(f"E{k:02d}" for k in range(1, 9))
"""Eight QA evaluators."""

# share of first contacts per channel
_CHANNEL_SHARE = {"phone": 0.34, "email": 0.18, "chat": 0.22, "social": 0.08, "in_app": 0.12, "sms": 0.06}
# channel intercepts, calibrated so that the CSAT in the responses is close to phone 80,
# chat 78, in_app 76, email 70, sms 68, social 62 (the exact rates of a data set are in its Truth)
_CHANNEL_LOGIT = {"phone": 1.98, "email": 1.21, "chat": 1.69, "social": 0.85, "in_app": 1.50, "sms": 0.99}
_REASON_LOGIT = {
    "billing": -0.10, "technical_issue": -0.40, "cancellation": -0.70, "order_status": 0.40, "refund": -0.20,
    "account_access": 0.10, "product_question": 0.50, "complaint": -1.00, "delivery_problem": -0.50,
    "plan_change": 0.30, "payment_failure": -0.30, "general_enquiry": 0.60,
}  # fmt: skip
_REASON_BASE = {
    "billing": 0.14, "technical_issue": 0.13, "cancellation": 0.05, "order_status": 0.12, "refund": 0.07,
    "account_access": 0.08, "product_question": 0.09, "complaint": 0.06, "delivery_problem": 0.08,
    "plan_change": 0.06, "payment_failure": 0.05, "general_enquiry": 0.07,
}  # fmt: skip
# channel multipliers of the base reason mix (1 where not listed); rows are renormalised
_REASON_TILT = {
    "phone": {"complaint": 1.6, "cancellation": 1.8, "billing": 1.2, "payment_failure": 1.2, "technical_issue": 1.1,
              "order_status": 0.7, "general_enquiry": 0.8},
    "email": {"refund": 1.6, "billing": 1.2, "complaint": 1.2, "product_question": 1.1, "account_access": 0.8,
              "cancellation": 0.9},
    "chat": {"order_status": 1.4, "product_question": 1.4, "technical_issue": 1.2, "plan_change": 1.2,
             "complaint": 0.6, "cancellation": 0.8},
    "social": {"complaint": 3.0, "cancellation": 1.5, "delivery_problem": 1.5, "account_access": 0.5,
               "plan_change": 0.5, "billing": 0.6},
    "in_app": {"order_status": 1.6, "account_access": 1.6, "plan_change": 1.5, "payment_failure": 1.3,
               "complaint": 0.4, "cancellation": 0.7},
    "sms": {"order_status": 1.8, "delivery_problem": 1.6, "payment_failure": 1.4, "general_enquiry": 1.2,
            "technical_issue": 0.5, "complaint": 0.5},
}  # fmt: skip
# agents per channel: A001-A016 phone, A017-A026 email, A027-A038 chat, A039-A045 social,
# A046-A053 in_app, A054-A060 sms; teams are consecutive blocks of ten agents
_AGENTS_PER_CHANNEL = {"phone": 16, "email": 10, "chat": 12, "social": 7, "in_app": 8, "sms": 7}
_AGENT_SD = 0.35
_EVALUATOR_OFFSETS = (-0.25, -0.15, -0.1, 0.0, 0.05, 0.1, 0.15, 0.2)  # assigned to E01..E08 by the seed

# first response (minutes), handling (minutes) and survey answer delay (minutes): log-normal
_FRT_MEDIAN = {"phone": 1.5, "email": 360.0, "chat": 0.75, "social": 45.0, "in_app": 20.0, "sms": 12.0}
_FRT_SIGMA = {"phone": 0.9, "email": 1.0, "chat": 0.8, "social": 1.1, "in_app": 1.0, "sms": 1.0}
_HANDLE_MEDIAN = {"phone": 7.0, "email": 240.0, "chat": 14.0, "social": 60.0, "in_app": 90.0, "sms": 45.0}
_ANSWER_DELAY = {"phone": 1.0, "email": 600.0, "chat": 1.0, "social": 90.0, "in_app": 3.0, "sms": 20.0}

_SEND_RATE = {"phone": 0.92, "email": 0.95, "chat": 0.90, "social": 0.70, "in_app": 0.85, "sms": 0.90}
_RESPONSE_RATE = {"phone": 0.22, "email": 0.08, "chat": 0.35, "social": 0.12, "in_app": 0.30, "sms": 0.18}
_FATIGUE_DAYS = 7
_FATIGUE_PROB = 0.8

# QA items: (scale low, scale high, marginal probabilities of the points, skill loading,
#            effect on the satisfied logit per point, weight in qa_score)
_ITEM_SPEC = {
    "greeting": (0, 2, (0.05, 0.15, 0.80), 0.25, 0.20, 0.05),
    "identity_verification": (0, 2, (0.06, 0.14, 0.80), 0.35, 0.00, 0.10),
    "empathy": (1, 5, (0.04, 0.10, 0.26, 0.35, 0.25), 0.4, 0.35, 0.12),
    "active_listening": (1, 5, (0.03, 0.09, 0.28, 0.37, 0.23), 0.4, 0.15, 0.10),
    "accuracy": (1, 5, (0.03, 0.08, 0.22, 0.40, 0.27), 0.45, 0.25, 0.14),
    "resolution": (1, 5, (0.06, 0.10, 0.20, 0.34, 0.30), 0.4, 0.45, 0.15),
    "compliance": (0, 2, (0.04, 0.10, 0.86), 0.35, 0.00, 0.12),
    "hold_etiquette": (0, 2, (0.07, 0.18, 0.75), 0.3, 0.00, 0.06),
    "ownership": (1, 5, (0.04, 0.12, 0.30, 0.33, 0.21), 0.35, 0.20, 0.08),
    "closing": (0, 2, (0.06, 0.20, 0.74), 0.25, 0.25, 0.08),
}
ITEMS = tuple(ITEM_PREFIX + k for k in _ITEM_SPEC)
"""QA item column names (``item_greeting`` ... ``item_closing``)."""
_ITEM_COMMON = 0.5  # loading of the interaction's common quality factor

_TREND_PER_QUARTER = 0.006  # about +1 CSAT point over nine quarters
_FRT_EFFECT = -0.15  # per doubling of the first-response time
_REPEAT_LOGIT = -0.4
_CUTPOINTS = (-2.0, -1.0, 0.0, 1.3)
_NPS_CUTPOINTS = (-2.9, -2.4, -2.0, -1.6, -1.1, -0.6, -0.1, 0.5, 1.2, 2.0)
_CES_CUTPOINTS = (-2.6, -1.8, -1.0, -0.2, 0.6, 1.6)
_ANSWER_CORR = 0.7
_CHURN_COEF = {"intercept": -3.2, "dissatisfied": 1.2, "cancellation": 1.8, "repeat_contact": 0.3}
_REPEAT_COEF = {"intercept": -1.6, "item_resolution": -0.45, "repeat_contact": 0.3}
_REPEAT_REASON = {
    "billing": 0.1, "technical_issue": 0.6, "cancellation": 0.0, "order_status": -0.2, "refund": 0.4,
    "account_access": 0.2, "product_question": -0.5, "complaint": 0.5, "delivery_problem": 0.5,
    "plan_change": -0.1, "payment_failure": 0.4, "general_enquiry": -0.8,
}  # fmt: skip
_MAX_REPEATS = 3
_SWITCH_PROB = 0.35
_GAP_MEDIAN_DAYS = 1.0

_SECONDS_PER_QUARTER = 86400 * 365.25 / 4
_LOGISTIC_PROBIT = 0.346  # (16 sqrt(3) / (15 pi))^2, logistic-normal approximation

_NEGATIVE = (
    "Waited far too long to get an answer.",
    "Nobody could tell me what happened to my order.",
    "Had to explain the problem three times.",
    "The agent did not listen to what I was saying.",
    "Still not resolved, very disappointed.",
    "I was transferred twice and then cut off.",
    "Your app keeps logging me out, please fix it.",
    "Charged twice this month and still no refund.",
    "Promised a call back that never came.",
    "Far too much effort for a simple question.",
)
_NEUTRAL = ("It was ok.", "Took a while but sorted in the end.", "Fine, nothing special.", "Answer was right but slow.")
_POSITIVE = (
    "Great service, thank you!",
    "Quick and friendly, problem solved.",
    "Very helpful agent.",
    "Sorted in minutes, thanks 👍",
    "Excellent – really appreciated the follow-up.",
)
_PII = (
    "Call me back on 07700 900123, nobody ever does.",
    "Please email me at jane.doe@example.com with the refund status.",
    "My number is +44 20 7946 0958, still waiting for a call.",
    "Reply to j.smith@example.org, I gave up on the phone line.",
    "Ring me on (555) 014-2367 after 5pm, this is not fixed.",
)
_SCRIPT = "Your form is broken <script>alert(1)</script> fix it"
_COMMENTS = ("",) + _NEGATIVE + _NEUTRAL + _POSITIVE + _PII + (_SCRIPT,)
_C_NEG = 1
_C_NEU = _C_NEG + len(_NEGATIVE)
_C_POS = _C_NEU + len(_NEUTRAL)
_C_PII = _C_POS + len(_POSITIVE)
_C_SCRIPT = _C_PII + len(_PII)
_COMMENT_PROB = np.array([0.0, 0.5, 0.4, 0.2, 0.06, 0.1])  # by likert5 point (index 1..5)
_PII_PROB = 0.1

_STR_DTYPE = pd.Series(["x"]).dtype  # the pandas default string dtype ("str" on pandas 3)


# ----------------------------------------------------------------------------------------------
# result classes


@dataclass(repr=False)
class Truth:
    """The parameters a synthetic data set was drawn from, and the rates they imply.

    Rates are in % (0-100) and NPS on -100..100, like csatkit's metric tables. They are
    *expected* rates given everything drawn except the survey answers: means of the model
    probabilities over the generated contacts. Survey-type rates (``csat``, ``nps``, ...) weight
    each contact by the probability that its survey is answered (0 when no survey was sent, else
    the channel's response rate), so they are exactly what the responses estimate: the raw
    observed rate of any group lies within sampling error of them. Within one channel that is
    the plain mean over the surveyed contacts; pooled over channels it follows the respondent
    mix (channels that answer more weigh more, as in any unweighted survey result). The
    ``_all`` variants average over every contact instead: the satisfaction of all customers
    served, which the survey over-states a little because the fatigue rule under-surveys the
    (less satisfied) repeat contacts.

    Attributes
    ----------
    seed, n_contacts, quarters, fy_start : int
        The arguments of :func:`generate`.
    start, end : pandas.Timestamp
        First instant covered and first instant after (``start`` + 3 x ``quarters`` months).
    channels, reasons, teams, evaluators : tuple of str
        The category values, in the order of every table below.
    items : tuple of str
        QA item columns, ``item_greeting`` ... ``item_closing``.
    channel_share : dict
        channel -> probability that a first contact arrives on it (repeat contacts follow their
        issue, switching channel with probability ``channel_switch_prob``).
    reason_mix : pandas.DataFrame
        channel (rows) x reason (columns): probability of each reason for a first contact on the
        channel; rows sum to 1.
    channel_logit, reason_logit : dict
        Channel intercepts and reason effects of the satisfied logit (the model in the module
        docstring). Their sum is the logit of a contact at average quality, a zero agent effect,
        the start of the period, the channel's median first-response time and no repeat.
    agents : pandas.DataFrame
        One row per agent (index ``agent_id``): ``team``, ``channel``, ``effect`` (= the agent's
        random intercept), ``skill`` (standard-normal skill driving the QA items), ``volume``
        (relative share of the channel's contacts).
    agent_effects : pandas.Series
        agent_id -> random intercept on the satisfied logit, beyond what the agent's QA items
        explain; drawn from N(0, ``agent_sd``) independently of skill, then centred and scaled
        within each channel (volume-weighted mean 0, standard deviation ``agent_sd``).
    agent_sd : float
        Standard deviation of the agent random intercepts (volume-weighted, within channel).
    item_effects : dict
        item column -> effect on the satisfied logit per scale point of the *true* item score.
        ``item_identity_verification``, ``item_compliance`` and ``item_hold_etiquette`` have no
        effect; ``item_resolution`` and ``item_empathy`` have the largest.
    item_effects_marginal : dict
        Approximate coefficients of a logistic regression of satisfied on the items alone:
        ``item_effects`` shrunk by ``(1 + 0.346 v)^-1/2``, ``v`` = variance of the rest of the
        logit (channel, reason, agent, trend, response time, repeat). An approximation (the
        logistic-normal attenuation), good to a few per cent.
    item_scales : dict
        item column -> (lowest, highest) point: 0-2 for greeting, identity_verification,
        compliance, hold_etiquette and closing; 1-5 for the others.
    item_probs : dict
        item column -> the marginal probabilities of its points (with an unbiased evaluator).
    item_centres : dict
        item column -> expected score, subtracted in the logit so that the intercepts refer to
        an average interaction.
    item_loadings : dict
        item column -> loading of the agent skill on the item's standard-normal latent quality;
        the interaction's common factor loads ``item_common_loading`` on every item and the rest
        is item-specific noise.
    item_common_loading : float
    item_weights : dict
        item column -> weight in ``qa_score = 100 * sum(weight * (score - low) / (high - low))``.
    evaluator_offsets : dict
        evaluator_id -> leniency, added to the standard-normal latent quality of every item the
        evaluator scores (positive = lenient). Satisfaction depends on the unbiased item scores.
    evaluator_qa_shift : dict
        evaluator_id -> expected change of ``qa_score`` (points) caused by the leniency, averaged
        over (up to 200,000 of) the evaluated contacts.
    trend_per_quarter : float
        Change of the satisfied logit per quarter (91.3 days) since ``start``.
    frt_effect : float
        Change of the satisfied logit per doubling of the first-response time relative to the
        channel median.
    frt_median_minutes, frt_sigma : dict
        channel -> median first-response time (minutes) and log-normal sigma.
    repeat_logit : float
        Effect of being a repeat contact on the satisfied logit.
    repeat_coef : dict
        Logit of "this contact is followed by a repeat contact": ``intercept``, per point of
        ``item_resolution`` (centred), and ``repeat_contact`` (the contact is itself a repeat),
        plus ``repeat_reason_logit``. Repeats after ``end`` are not observed.
    repeat_reason_logit : dict
        reason -> term of that logit.
    channel_switch_prob : float
        Probability that a repeat contact comes in on a newly drawn channel.
    cutpoints : tuple of float
        Likert5 thresholds kappa_1..kappa_4 on the latent ``y = eta + e``: score = 1 + number of
        thresholds below ``y``; ``P(score > j) = expit(eta - kappa_j)``; kappa_3 = 0.
        (statsmodels ``OrderedModel`` with ``distr="logit"`` estimates these as its thresholds.)
    nps_cutpoints, ces_cutpoints : tuple of float
        The same for the 0-10 answer (10 thresholds; score = number below ``y``) and the 1-7 effort
        answer (6 thresholds, 7 = extremely easy).
    answer_corr : float
        Correlation of the Gaussian copula linking the errors of the likert5 answer with the NPS
        and CES answers of the same survey.
    churn_coef : dict
        Logit of ``churned``: ``intercept``, ``dissatisfied`` (latent answer below 4),
        ``cancellation`` (the contact reason), ``repeat_contact``.
    survey_send_rate, response_rate : dict
        channel -> probability that a survey is sent (before the fatigue rule) and that a sent
        survey is answered.
    fatigue_days, fatigue_prob : int, float
        A survey is suppressed with probability ``fatigue_prob`` when the customer had another
        contact in the previous ``fatigue_days`` days.
    qa_share : float
        Probability that a contact is QA-evaluated.
    by_channel : pandas.DataFrame
        One row per channel (index ``channel``): ``contacts``, ``sent`` (surveys sent), ``csat``
        (expected % satisfied in the responses), ``csat_all`` (over all contacts), ``csat_std``
        (mix-standardised: the channel's reason-level rates weighted by the reason mix of all
        surveys sent), ``mean_score`` (expected likert5 mean), ``nps``, ``nps_all``,
        ``low_effort`` (expected % CES 6-7) and ``churn`` (expected % of contacts followed by
        churn, over all contacts).
    channel_csat : dict
        channel -> expected % satisfied in the channel's responses, under its generated reason mix
        (= ``by_channel["csat"]``).
    channel_csat_all : dict
        channel -> the same over all the channel's contacts (the survey-fatigue bias is
        ``channel_csat - channel_csat_all``).
    channel_csat_std : dict
        channel -> mix-standardised CSAT (``by_channel["csat_std"]``); NaN when a reason is absent.
    overall_csat, overall_nps : float
        Expected CSAT and NPS of all responses pooled (the marginal truth under the generated mix
        of channels, reasons and respondents).
    overall_csat_all : float
        Expected % satisfied over all contacts.
    reason_csat : dict
        reason -> expected % satisfied in the responses, pooled over channels.
    reason_channel_csat : pandas.DataFrame
        reason (rows) x channel (columns): expected % satisfied in the responses of each cell;
        NaN for cells without surveys.
    reason_channel_n : pandas.DataFrame
        The number of surveys sent in each cell.
    quarter_csat : pandas.DataFrame
        One row per quarter (labels of :mod:`csatkit.periods` for ``fy_start``): ``quarter``,
        ``quarter_start``, ``contacts``, ``sent``, ``csat`` (expected in the responses),
        ``csat_all`` (over all contacts).
    agent_csat : pandas.Series
        agent_id -> expected % satisfied in the agent's responses (channel mix, skill and effect
        together).
    """

    seed: int | None
    n_contacts: int
    start: pd.Timestamp
    end: pd.Timestamp
    quarters: int
    fy_start: int
    channels: tuple
    reasons: tuple
    teams: tuple
    evaluators: tuple
    items: tuple
    channel_share: dict
    reason_mix: pd.DataFrame
    channel_logit: dict
    reason_logit: dict
    agents: pd.DataFrame
    agent_effects: pd.Series
    agent_sd: float
    item_effects: dict
    item_effects_marginal: dict
    item_scales: dict
    item_probs: dict
    item_centres: dict
    item_loadings: dict
    item_common_loading: float
    item_weights: dict
    evaluator_offsets: dict
    evaluator_qa_shift: dict
    trend_per_quarter: float
    frt_effect: float
    frt_median_minutes: dict
    frt_sigma: dict
    repeat_logit: float
    repeat_coef: dict
    repeat_reason_logit: dict
    channel_switch_prob: float
    cutpoints: tuple
    nps_cutpoints: tuple
    ces_cutpoints: tuple
    answer_corr: float
    churn_coef: dict
    survey_send_rate: dict
    response_rate: dict
    fatigue_days: int
    fatigue_prob: float
    qa_share: float
    by_channel: pd.DataFrame
    channel_csat: dict
    channel_csat_all: dict
    channel_csat_std: dict
    overall_csat: float
    overall_csat_all: float
    overall_nps: float
    reason_csat: dict
    reason_channel_csat: pd.DataFrame
    reason_channel_n: pd.DataFrame
    quarter_csat: pd.DataFrame
    agent_csat: pd.Series

    def summary(self) -> str:
        """A few lines: period, overall truth and the per-channel table."""
        lines = [
            f"Synthetic truth (seed {self.seed}): {self.n_contacts:,} contacts, "
            f"{self.start.date()} to {self.end.date()} ({self.quarters} quarters)",
            f"Expected CSAT {self.overall_csat:.1f}% in the responses ({self.overall_csat_all:.1f}% over all "
            f"contacts); NPS {self.overall_nps:+.1f}",
            self.by_channel.round(1).to_string(),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Truth seed={self.seed} n_contacts={self.n_contacts:,} overall_csat={self.overall_csat:.1f}>"

    def _repr_html_(self) -> str:
        import html

        head = html.escape(self.summary().splitlines()[0])
        return f"<p><b>{head}</b></p>" + self.by_channel.round(1).to_html()


@dataclass(repr=False)
class SynthData:
    """Three linked synthetic tables and the truth they were drawn from.

    Attributes
    ----------
    contacts : pandas.DataFrame
        The contact log, columns :data:`csatkit.schema.CONTACT_COLUMNS`, one row per contact in
        time order. ``repeat_contact`` marks a contact about an issue the customer contacted
        about before (within seven days); ``resolved_first_contact`` is True when no repeat
        contact followed this one (so ``csatkit.metrics.fcr`` gives the share of contacts
        resolved without a repeat); ``churned``: the customer left within 90 days.
    responses : pandas.DataFrame
        Long-form survey responses, columns :data:`csatkit.schema.RESPONSE_COLUMNS`: three rows
        (scales ``likert5``, ``nps``, ``ces7``) per answered survey, one ``likert5`` row with a
        missing score per unanswered one. Comments sit on the likert5 row.
    qa : pandas.DataFrame
        QA evaluations, columns :data:`csatkit.schema.QA_COLUMNS` followed by the ten ``item_``
        columns (integers; 0-2 or 1-5, see ``truth.item_scales``).
    truth : Truth
        The generating parameters and implied rates.
    """

    contacts: pd.DataFrame
    responses: pd.DataFrame
    qa: pd.DataFrame
    truth: Truth

    def write(self, directory, format: str = "csv") -> dict:
        """Write the three tables to ``directory`` (created if needed).

        Parameters
        ----------
        directory : str or path-like
        format : {"csv", "parquet"}, default "csv"
            CSV files are UTF-8 with ISO timestamps; Parquet keeps the dtypes.

        Returns
        -------
        dict
            ``{"responses": Path, "qa": Path, "contacts": Path}``.
        """
        check_choice("format", format, ["csv", "parquet"])
        out_dir = Path(directory)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("responses", "qa", "contacts"):
            frame = getattr(self, name)
            path = out_dir / f"{name}.{format}"
            if format == "csv":
                frame.to_csv(path, index=False, encoding="utf-8")
            else:
                frame.to_parquet(path, index=False)
            paths[name] = path
        return paths

    def summary(self) -> str:
        """Table sizes and the headline truth."""
        answered = int(self.responses.loc[self.responses["scale"] == "likert5", "score"].notna().sum())
        return (
            f"{len(self.contacts):,} contacts, {len(self.responses):,} response rows "
            f"({answered:,} answered surveys), {len(self.qa):,} QA evaluations\n" + self.truth.summary()
        )

    def __repr__(self) -> str:
        return (
            f"<SynthData contacts={len(self.contacts):,} responses={len(self.responses):,} "
            f"qa={len(self.qa):,} seed={self.truth.seed}>"
        )


# ----------------------------------------------------------------------------------------------
# helpers


def _to_str_series(arr: pa.Array, name: str) -> pd.Series:
    if _STR_DTYPE == object:  # pandas < 3 without the string default
        return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object, name=name)
    return pd.Series(pd.array(arr, dtype=_STR_DTYPE), name=name)


def _id_series(prefix: str, numbers: np.ndarray, width: int, name: str) -> pd.Series:
    """``prefix`` + zero-padded ``numbers`` as a string column, built from bytes (no Python loop)."""
    n = len(numbers)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    size = len(head) + width
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : len(head)] = head
    x = np.asarray(numbers, dtype=np.int64).copy()
    for k in range(size - 1, len(head) - 1, -1):
        buf[:, k] = x % 10 + 48
        x //= 10
    large = (n + 1) * size >= 2**31  # 64-bit offsets beyond 2 GB of text
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int64 if large else np.int32)
    arr = pa.Array.from_buffers(
        pa.large_string() if large else pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )
    return _to_str_series(arr, name)


def _cat_series(values, codes: np.ndarray, name: str) -> pd.Series:
    """The strings ``values[codes]`` as a string column."""
    arr = pc.take(pa.array(list(values), type=pa.string()), pa.array(np.asarray(codes)))
    return _to_str_series(arr, name)


def _dt_series(seconds: np.ndarray, name: str, mask: np.ndarray | None = None) -> pd.Series:
    ns = np.asarray(seconds, dtype=np.int64) * np.int64(10**9)
    if mask is not None:
        ns = np.where(mask, ns, np.iinfo(np.int64).min)
    return pd.Series(ns.view("datetime64[ns]"), name=name)


def _scramble(index: np.ndarray, size: int) -> np.ndarray:
    """A fixed permutation of ``0..size-1`` (an affine map modulo ``size``), so ids do not reveal segments."""
    mult = 2_654_435_761 % size or 1
    while math.gcd(mult, size) != 1:
        mult += 1
    return (index * mult + 12_345) % size


def _width(n: int, minimum: int = 7) -> int:
    return max(minimum, len(str(max(int(n), 1))))


def _lognormal(rng, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(len(median)))


def _choice_by_group(rng, groups: np.ndarray, n_groups: int, probs: np.ndarray) -> np.ndarray:
    """For each element draw a category with the probability row ``probs[group]``."""
    out = np.empty(len(groups), dtype=np.int16)
    for g in range(n_groups):
        idx = np.flatnonzero(groups == g)
        if idx.size:
            out[idx] = rng.choice(probs.shape[1], size=idx.size, p=probs[g])
    return out


def _per_channel(values: dict) -> np.ndarray:
    return np.array([values[c] for c in CHANNELS], dtype=float)


def _check_response_rate(response_rate) -> dict:
    if response_rate is None:
        return dict(_RESPONSE_RATE)
    if isinstance(response_rate, dict):
        unknown = sorted(set(response_rate) - set(CHANNELS))
        if unknown:
            raise ParameterError(
                f"The keys of `response_rate` must be channels {list(CHANNELS)}, but {unknown} were passed."
            )
        out = dict(_RESPONSE_RATE)
        for key, value in response_rate.items():
            check_range(f"response_rate[{key!r}]", value, 0, 1)
            out[key] = float(value)
        return out
    if isinstance(response_rate, bool):
        raise ParameterError(
            f"The value for `response_rate` must be a number in [0, 1] or a dict, but {response_rate!r} was passed."
        )
    check_range("response_rate", response_rate, 0, 1)
    return {c: float(response_rate) for c in CHANNELS}


def _check_int(name: str, value, low: int, high: int | None = None) -> int:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        upper = f" and at most {high:,}" if high is not None else ""
        raise ParameterError(
            f"The value for `{name}` must be a whole number of at least {low:,}{upper}, but {value!r} was passed."
        )
    return int(value)


def _item_tables():
    """Thresholds, point values, centres and per-point logit contributions of every item."""
    thresholds, points, centres, contrib = [], [], [], []
    for low, high, probs, _load, effect, _w in _ITEM_SPEC.values():
        cum = np.cumsum(probs)[:-1]
        thresholds.append(ndtri(cum))
        pts = np.arange(low, high + 1, dtype=float)
        centre = float(np.dot(pts, probs))
        points.append(pts)
        centres.append(centre)
        contrib.append(effect * (pts - centre))
    return thresholds, points, centres, contrib


_ITEM_THRESHOLDS, _ITEM_POINTS, _ITEM_CENTRES, _ITEM_CONTRIB = _item_tables()
_ITEM_LOADING = np.array([spec[3] for spec in _ITEM_SPEC.values()])
_ITEM_NOISE = np.sqrt(1.0 - _ITEM_LOADING**2 - _ITEM_COMMON**2)
_ITEM_WEIGHT = np.array([spec[5] for spec in _ITEM_SPEC.values()])
_RESOLUTION = list(_ITEM_SPEC).index("resolution")


def _reason_mix() -> np.ndarray:
    base = np.array([_REASON_BASE[r] for r in REASONS])
    rows = []
    for ch in CHANNELS:
        tilt = np.array([_REASON_TILT[ch].get(r, 1.0) for r in REASONS])
        row = base * tilt
        rows.append(row / row.sum())
    return np.vstack(rows)


def _qa_score(items: np.ndarray) -> np.ndarray:
    """Weighted 0-100 total of an (n, 10) matrix of item scores."""
    lows = np.array([spec[0] for spec in _ITEM_SPEC.values()], dtype=float)
    highs = np.array([spec[1] for spec in _ITEM_SPEC.values()], dtype=float)
    return np.round(100.0 * ((items - lows) / (highs - lows)) @ _ITEM_WEIGHT, 1)


def _cut_items(latent: np.ndarray) -> np.ndarray:
    """Item scores (n, 10) from standard-normal latent quality (n, 10)."""
    out = np.empty(latent.shape, dtype=np.int64)
    for k, (low, *_rest) in enumerate(_ITEM_SPEC.values()):
        out[:, k] = np.searchsorted(_ITEM_THRESHOLDS[k], latent[:, k]) + low
    return out


# ----------------------------------------------------------------------------------------------
# generation


class _Context:
    """Everything the contact generator needs besides the random generator."""

    def __init__(self, rng_fixed, n_contacts, start, end, qa_share):
        self.start_s = start.value // 10**9
        self.end_s = end.value // 10**9
        self.qa_share = qa_share
        self.channel_p = _per_channel(_CHANNEL_SHARE)
        self.channel_p /= self.channel_p.sum()
        self.reason_mix = _reason_mix()
        # agents (seed-dependent only)
        ch_of_agent = []
        for c, ch in enumerate(CHANNELS):
            ch_of_agent += [c] * _AGENTS_PER_CHANNEL[ch]
        self.agent_channel = np.array(ch_of_agent, dtype=np.int8)
        n_agents = len(self.agent_channel)
        self.agent_team = np.arange(n_agents) // 10
        self.agent_effect = rng_fixed.normal(0.0, _AGENT_SD, n_agents)
        self.agent_skill = rng_fixed.standard_normal(n_agents)
        self.agent_volume = rng_fixed.gamma(5.0, 1.0 / 5.0, n_agents)
        self.evaluator_offset = rng_fixed.permutation(np.array(_EVALUATOR_OFFSETS))
        self.agents_of = [np.flatnonzero(self.agent_channel == c) for c in range(len(CHANNELS))]
        self.agent_p = [self.agent_volume[a] / self.agent_volume[a].sum() for a in self.agents_of]
        # standardise effects and skills within channel (volume-weighted mean 0, sd agent_sd and
        # 1), so that channel levels hardly depend on the seed
        for a, w in zip(self.agents_of, self.agent_p):
            for values, sd in ((self.agent_effect, _AGENT_SD), (self.agent_skill, 1.0)):
                v = values[a] - np.dot(w, values[a])
                values[a] = v * sd / math.sqrt(np.dot(w, v**2))
        # days with seasonal weights: January peak, quiet weekends
        days = pd.date_range(start.normalize(), end, freq="D", inclusive="left")
        if len(days) == 0:
            days = pd.DatetimeIndex([start.normalize()])
        season = 1.0 + 0.12 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 20) / 365.25)
        weekday = np.array([1.12, 1.06, 1.03, 1.02, 0.98, 0.72, 0.55])[days.day_of_week.to_numpy()]
        w = season * weekday
        self.day_s = days.as_unit("ns").asi8 // 10**9
        self.day_p = w / w.sum()
        # customers: a pool in three activity segments (light, regular, heavy users), so that
        # repeat customers exist; indices are scrambled into customer numbers later
        self.n_customers = max(100, int(n_contacts))
        sizes = np.array([0.75, 0.20, 0.05]) * self.n_customers
        self.segment_size = np.maximum(1, sizes.astype(np.int64))
        self.segment_size[0] = self.n_customers - self.segment_size[1:].sum()
        self.segment_start = np.concatenate([[0], np.cumsum(self.segment_size)[:-1]])
        share = self.segment_size * np.array([1.0, 3.0, 10.0])
        self.segment_p = share / share.sum()


def _open_times(rng, ctx: _Context, k: int) -> np.ndarray:
    day = rng.choice(len(ctx.day_s), size=k, p=ctx.day_p)
    office = rng.random(k) < 0.88
    sec = np.where(office, rng.normal(13.5, 3.0, k) * 3600, rng.random(k) * 86400)
    sec = np.clip(sec, 0, 86399).astype(np.int64)
    t = ctx.day_s[day] + sec
    return np.clip(t, ctx.start_s, ctx.end_s - 1)


def _attributes(rng, ctx: _Context, ch, rsn, t_open, is_rep):
    """Agent, items, timings and the follow-up decision of a batch of contacts."""
    m = len(ch)
    agent = np.empty(m, dtype=np.int16)
    for c in range(len(CHANNELS)):
        idx = np.flatnonzero(ch == c)
        if idx.size:
            agent[idx] = ctx.agents_of[c][rng.choice(len(ctx.agents_of[c]), size=idx.size, p=ctx.agent_p[c])]
    skill = ctx.agent_skill[agent].astype(np.float32)
    common = rng.standard_normal(m, dtype=np.float32) * np.float32(_ITEM_COMMON)
    qa = rng.random(m) < ctx.qa_share
    latent_qa = np.empty((int(qa.sum()), len(_ITEM_SPEC)), dtype=np.float32)
    contrib = np.zeros(m)
    resolution = None
    for k in range(len(_ITEM_SPEC)):
        q = np.float32(_ITEM_LOADING[k]) * skill + common
        q += np.float32(_ITEM_NOISE[k]) * rng.standard_normal(m, dtype=np.float32)
        pos = np.searchsorted(_ITEM_THRESHOLDS[k].astype(np.float32), q)
        contrib += _ITEM_CONTRIB[k][pos]
        if k == _RESOLUTION:
            resolution = _ITEM_POINTS[k][pos]
        latent_qa[:, k] = q[qa]
    frt_med = _per_channel(_FRT_MEDIAN)[ch] * 60.0
    frt = np.maximum(1, np.rint(_lognormal(rng, frt_med, _per_channel(_FRT_SIGMA)[ch]))).astype(np.int64)
    handle = np.maximum(30, np.rint(_lognormal(rng, _per_channel(_HANDLE_MEDIAN)[ch] * 60.0, np.full(m, 0.7))))
    resolved = t_open + frt + handle.astype(np.int64)
    z = (
        _REPEAT_COEF["intercept"]
        + np.array([_REPEAT_REASON[r] for r in REASONS])[rsn]
        + _REPEAT_COEF["item_resolution"] * (resolution - _ITEM_CENTRES[_RESOLUTION])
        + _REPEAT_COEF["repeat_contact"] * is_rep
    )
    follow = rng.random(m) < expit(z)
    gap = _lognormal(rng, np.full(m, _GAP_MEDIAN_DAYS * 86400.0), np.full(m, 0.9))
    gap = np.clip(np.rint(gap), 600, _FATIGUE_DAYS * 86400 - 60).astype(np.int64)
    t_next = resolved + gap
    follow &= t_next < ctx.end_s
    return {
        "agent": agent, "contrib": contrib, "frt": frt, "resolved": resolved, "qa": qa,
        "latent_qa": latent_qa, "follow": follow, "t_next": t_next,
    }  # fmt: skip


def _episodes(rng, ctx: _Context, k: int) -> dict:
    """``k`` first contacts and the chains of repeat contacts they lead to."""
    ch = rng.choice(len(CHANNELS), size=k, p=ctx.channel_p).astype(np.int8)
    rsn = _choice_by_group(rng, ch, len(CHANNELS), ctx.reason_mix).astype(np.int8)
    t_open = _open_times(rng, ctx, k)
    seg = rng.choice(3, size=k, p=ctx.segment_p)
    cust = ctx.segment_start[seg] + (rng.random(k) * ctx.segment_size[seg]).astype(np.int64)
    is_rep = np.zeros(k, dtype=bool)
    levels = []
    for depth in range(_MAX_REPEATS + 1):
        a = _attributes(rng, ctx, ch, rsn, t_open, is_rep)
        if depth == _MAX_REPEATS:
            a["follow"][:] = False
        levels.append({"ch": ch, "rsn": rsn, "t_open": t_open, "cust": cust, "is_rep": is_rep, **a})
        f = a["follow"]
        if not f.any():
            break
        n_next = int(f.sum())
        switch = rng.random(n_next) < _SWITCH_PROB
        new_ch = rng.choice(len(CHANNELS), size=n_next, p=ctx.channel_p).astype(np.int8)
        ch = np.where(switch, new_ch, ch[f]).astype(np.int8)
        rsn, t_open, cust = rsn[f], a["t_next"][f], cust[f]
        is_rep = np.ones(n_next, dtype=bool)
    keys = ["ch", "rsn", "t_open", "cust", "is_rep", "agent", "contrib", "frt", "resolved", "qa", "follow"]
    out = {key: np.concatenate([lv[key] for lv in levels]) for key in keys}
    out["latent_qa"] = np.concatenate([lv["latent_qa"] for lv in levels])
    out["n_first"] = k
    return out


def generate(
    n_contacts: int = 20_000,
    *,
    seed: int | None = 0,
    start="2024-10-01",
    quarters: int = 9,
    response_rate=None,
    qa_share: float = 0.05,
    fy_start: int = 1,
) -> SynthData:
    """Draw linked contacts, survey responses and QA evaluations with known truth.

    Parameters
    ----------
    n_contacts : int, default 20_000
        Number of contacts (rows of the contact log), at least 100. Ten million take about a
        minute and a few GB.
    seed : int or None, default 0
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical tables. ``None``
        draws a fresh seed.
    start : date-like, default "2024-10-01"
        First day covered.
    quarters : int, default 9
        Length of the period in quarters (3-month steps from ``start``). The default covers
        2024Q4 to 2026Q4: an eight-quarter trend ending with the demo quarter 2026Q3 (2024Q4 to
        2026Q3) and the same quarter a year earlier are covered. For eight full quarters before
        2026Q3, pass ``start="2024-07-01", quarters=10``.
    response_rate : float or dict, optional
        Probability that a sent survey is answered: one number for every channel, or
        ``{channel: rate}`` overriding some of the defaults (phone 0.22, email 0.08, chat 0.35,
        social 0.12, in_app 0.30, sms 0.18).
    qa_share : float, default 0.05
        Probability that a contact is QA-evaluated (0 to 1).
    fy_start : int, default 1
        Month in which the fiscal year starts; only the quarter labels of
        ``truth.quarter_csat`` depend on it.

    Returns
    -------
    SynthData
        ``contacts``, ``responses``, ``qa`` and ``truth`` (see :class:`Truth`).

    Raises
    ------
    ParameterError
        When an argument is out of range.

    Examples
    --------
    >>> d = generate(1_000, seed=3)
    >>> len(d.contacts), d.contacts["channel"].nunique(), d.contacts["contact_reason"].nunique()
    (1000, 6, 12)
    >>> sorted(d.responses["scale"].unique())
    ['ces7', 'likert5', 'nps']
    """
    n = _check_int("n_contacts", n_contacts, 100)
    if seed is not None:
        seed = _check_int("seed", seed, 0)
    quarters = _check_int("quarters", quarters, 1, 400)
    check_range("qa_share", qa_share, 0, 1)
    qa_share = float(qa_share)
    fy_start = _check_int("fy_start", fy_start, 1, 12)
    rates = _check_response_rate(response_rate)
    try:
        start_ts = pd.Timestamp(start)
    except (TypeError, ValueError):
        raise ParameterError(
            f"The value for `start` must be a date such as '2024-10-01', but {start!r} was passed."
        ) from None
    if start_ts is pd.NaT or start_ts.tzinfo is not None:
        raise ParameterError(
            f"The value for `start` must be a time-zone-naive date such as '2024-10-01', but {start!r} was passed."
        )
    start_ts = start_ts.as_unit("ns")
    end_ts = start_ts + pd.DateOffset(months=3 * quarters)

    seed_used = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    root = np.random.SeedSequence(seed_used)
    fixed_seq, data_seq = root.spawn(2)
    rng_fixed = np.random.default_rng(fixed_seq)
    rng = np.random.default_rng(data_seq)

    ctx = _Context(rng_fixed, n, start_ts, end_ts, qa_share)

    # -- contacts: rounds of first contacts with their repeat chains until n is reached --------
    parts, total, firsts, ratio = [], 0, 0, 1.25
    while total < n:
        k = max(16, math.ceil((n - total) / ratio * 1.02))
        part = _episodes(rng, ctx, k)
        parts.append(part)
        total += len(part["ch"])
        firsts += k
        ratio = total / firsts
    keys = ["ch", "rsn", "t_open", "cust", "is_rep", "agent", "contrib", "frt", "resolved", "qa", "follow"]
    c = {}
    for key in keys:
        c[key] = np.concatenate([p.pop(key) for p in parts])
    latent_qa = np.concatenate([p.pop("latent_qa") for p in parts])
    del parts
    c["qa_rank"] = (np.cumsum(c["qa"]) - 1).astype(np.int64)
    keep = np.ones(len(c["ch"]), dtype=bool)
    excess = len(c["ch"]) - n
    if excess > 0:  # drop a few contacts that are neither repeats nor followed by one
        singles = np.flatnonzero(~c["is_rep"] & ~c["follow"])
        keep[rng.choice(singles, size=excess, replace=False)] = False
        del singles
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(c["t_open"][kept], kind="stable")]
    del keep, kept
    for key in list(c):
        c[key] = c[key][order]
    del order

    # -- satisfaction, answers, churn ----------------------------------------------------------
    eta, rest_var = _eta(ctx, c)
    z1 = rng.standard_normal(n)
    y1 = eta + logit(ndtr(z1))
    likert = (np.searchsorted(np.array(_CUTPOINTS), y1) + 1).astype(np.int8)
    satisfied = y1 > 0
    del y1
    churn_z = (
        _CHURN_COEF["intercept"]
        + _CHURN_COEF["dissatisfied"] * ~satisfied
        + _CHURN_COEF["cancellation"] * (c["rsn"] == REASONS.index("cancellation"))
        + _CHURN_COEF["repeat_contact"] * c["is_rep"]
    )
    churned = rng.random(n) < expit(churn_z)
    del churn_z, satisfied

    # -- surveys: sending with the fatigue rule, answering at random given the channel ----------
    ch, t_open, cust = c["ch"], c["t_open"], c["cust"]
    by_cust = np.argsort(cust, kind="stable")  # rows are in time order, so this sorts by (customer, time)
    recent = np.zeros(n, dtype=bool)
    recent[by_cust[1:]] = (cust[by_cust[1:]] == cust[by_cust[:-1]]) & (
        t_open[by_cust[1:]] - t_open[by_cust[:-1]] < _FATIGUE_DAYS * 86400
    )
    del by_cust
    sent = (rng.random(n) < _per_channel(_SEND_RATE)[ch]) & ~(recent & (rng.random(n) < _FATIGUE_PROB))
    del recent
    answered = sent & (rng.random(n) < _per_channel(rates)[ch])
    aidx = np.flatnonzero(answered)
    del answered
    z1 = z1[aidx]
    rho = _ANSWER_CORR
    z2 = rho * z1 + math.sqrt(1 - rho**2) * rng.standard_normal(len(aidx))
    nps = np.searchsorted(np.array(_NPS_CUTPOINTS), eta[aidx] + logit(ndtr(z2))).astype(np.int8)
    z2 = rho * z1 + math.sqrt(1 - rho**2) * rng.standard_normal(len(aidx))
    ces = (np.searchsorted(np.array(_CES_CUTPOINTS), eta[aidx] + logit(ndtr(z2))) + 1).astype(np.int8)
    del z1, z2

    # -- QA evaluations (latent quality of the evaluated contacts, shifted by leniency) ---------
    qidx = np.flatnonzero(c["qa"])
    q_latent = latent_qa[c["qa_rank"][qidx]]
    del latent_qa
    evaluator = rng.integers(0, len(EVALUATORS), len(qidx))
    offsets = ctx.evaluator_offset.astype(np.float32)
    observed = _cut_items(q_latent + offsets[evaluator][:, None])
    sub = q_latent[:200_000]
    neutral = _qa_score(_cut_items(sub))
    qa_shift = {
        e: (float(np.mean(_qa_score(_cut_items(sub + offsets[j])) - neutral)) if len(sub) else float("nan"))
        for j, e in enumerate(EVALUATORS)
    }
    del q_latent, sub, neutral

    agent_ids = [f"A{a + 1:03d}" for a in range(len(ctx.agent_channel))]
    truth = _truth(
        seed_used, n, start_ts, end_ts, quarters, fy_start, ctx, rates, qa_share, qa_shift,
        ch, c["rsn"], c["agent"], t_open, c["is_rep"], eta, rest_var, sent, agent_ids,
    )  # fmt: skip
    del eta

    # -- tables -----------------------------------------------------------------------------------
    cols = _contact_columns(c, ctx, agent_ids)
    contacts = pd.DataFrame({
        **cols,
        "opened_at": _dt_series(t_open, "opened_at"),
        "first_response_at": _dt_series(t_open + c["frt"], "first_response_at"),
        "resolved_at": _dt_series(c["resolved"], "resolved_at"),
        "repeat_contact": c["is_rep"],
        "resolved_first_contact": ~c["follow"],
        "survey_sent": sent,
        "churned": churned,
    })[CONTACT_COLUMNS]  # fmt: skip
    del churned
    evaluated = c["resolved"][qidx] + np.rint(rng.uniform(0.5, 10.0, len(qidx)) * 86400).astype(np.int64)
    qa_cols = {
        "evaluation_id": _id_series("Q", np.arange(1, len(qidx) + 1), _width(len(qidx)), "evaluation_id"),
        "interaction_id": _take(cols["interaction_id"], qidx),
        "agent_id": _take(cols["agent_id"], qidx),
        "team": _take(cols["team"], qidx),
        "evaluator_id": _cat_series(EVALUATORS, evaluator, "evaluator_id"),
        "evaluated_at": _dt_series(evaluated, "evaluated_at"),
        "channel": _take(cols["channel"], qidx),
        "contact_reason": _take(cols["contact_reason"], qidx),
        "qa_score": _qa_score(observed),
    }
    for k, col in enumerate(ITEMS):
        qa_cols[col] = observed[:, k]
    qa = pd.DataFrame(qa_cols)[QA_COLUMNS + list(ITEMS)]
    del qa_cols, observed, evaluated
    responses = _responses(rng, c, cols, ctx, agent_ids, sent, aidx, likert, nps, ces)
    return SynthData(contacts=contacts, responses=responses, qa=qa, truth=truth)


def _take(series: pd.Series, idx: np.ndarray) -> pd.Series:
    return series.take(idx).reset_index(drop=True)


def _contact_columns(c: dict, ctx: _Context, agent_ids: list) -> dict:
    """The string columns of the contact log."""
    n = len(c["ch"])
    customer_label = _scramble(c["cust"], ctx.n_customers) + 1
    return {
        "interaction_id": _id_series("I", np.arange(1, n + 1), _width(n), "interaction_id"),
        "customer_id": _id_series("C", customer_label, _width(ctx.n_customers), "customer_id"),
        "channel": _cat_series(CHANNELS, c["ch"], "channel"),
        "contact_reason": _cat_series(REASONS, c["rsn"], "contact_reason"),
        "agent_id": _cat_series(agent_ids, c["agent"], "agent_id"),
        "team": _cat_series(TEAMS, ctx.agent_team[c["agent"]], "team"),
    }


def _eta(ctx: _Context, c: dict) -> tuple[np.ndarray, float]:
    """The satisfied logit of every contact, and the variance of its non-item part."""
    ch = c["ch"]
    eta = _per_channel(_CHANNEL_LOGIT)[ch]
    eta += np.array([_REASON_LOGIT[r] for r in REASONS])[c["rsn"]]
    eta += ctx.agent_effect[c["agent"]]
    eta += (_TREND_PER_QUARTER / _SECONDS_PER_QUARTER) * (c["t_open"] - ctx.start_s)
    eta += _FRT_EFFECT * np.log2(c["frt"] / (_per_channel(_FRT_MEDIAN)[ch] * 60.0))
    eta += _REPEAT_LOGIT * c["is_rep"]
    rest_var = float(np.var(eta))
    eta += c["contrib"]
    return eta, rest_var


def _responses(rng, c, cols, ctx, agent_ids, sent, aidx, likert, nps, ces) -> pd.DataFrame:
    """Long-form responses: three rows per answered survey, one likert5 row per unanswered one."""
    n = len(sent)
    sidx = np.flatnonzero(sent)
    ans_pos = np.full(n, -1, dtype=np.int64)
    ans_pos[aidx] = np.arange(len(aidx))
    rows_per = np.where(ans_pos[sidx] >= 0, 3, 1)
    row_survey = np.repeat(np.arange(len(sidx)), rows_per)
    question = (np.arange(len(row_survey)) - np.repeat(np.cumsum(rows_per) - rows_per, rows_per)).astype(np.int8)
    del rows_per
    row_contact = sidx[row_survey]
    del sidx
    row_ans = ans_pos[row_contact]
    del ans_pos
    is_ans = row_ans >= 0
    ch = c["ch"]
    # answers
    score = np.full(len(row_survey), np.nan)
    q0, q1, q2 = is_ans & (question == 0), question == 1, question == 2
    score[q0] = likert[row_contact[q0]]
    score[q1] = nps[row_ans[q1]]
    score[q2] = ces[row_ans[q2]]
    # answer times
    delay = np.rint(_lognormal(rng, _per_channel(_ANSWER_DELAY)[ch[aidx]] * 60.0, np.full(len(aidx), 1.0)))
    responded = c["resolved"][aidx] + np.maximum(5, delay).astype(np.int64)
    del delay
    responded_rows = responded[np.maximum(row_ans, 0)] if len(aidx) else np.zeros(len(row_ans), dtype=np.int64)
    del responded
    # comments on the likert5 row of answered surveys
    a_lik = likert[aidx]
    has_comment = rng.random(len(aidx)) < _COMMENT_PROB[a_lik]
    pii = rng.random(len(aidx)) < _PII_PROB
    v = rng.random(len(aidx))
    comment = np.where(
        a_lik <= 2,
        np.where(pii, _C_PII + (v * len(_PII)).astype(int), _C_NEG + (v * len(_NEGATIVE)).astype(int)),
        np.where(a_lik == 3, _C_NEU + (v * len(_NEUTRAL)).astype(int), _C_POS + (v * len(_POSITIVE)).astype(int)),
    )
    comment = np.where(has_comment, comment, 0).astype(np.int8)
    if len(aidx):  # exactly one comment carries markup, to test escaping in reports
        pool = np.flatnonzero(a_lik <= 2)
        pool = pool if pool.size else np.arange(len(aidx))
        comment[pool[rng.integers(pool.size)]] = _C_SCRIPT
    del a_lik, has_comment, pii, v
    row_comment = np.zeros(len(row_survey), dtype=np.int8)
    row_comment[q0] = comment[row_ans[q0]]
    del comment, row_ans, q0, q1, q2
    return pd.DataFrame({
        "response_id": _id_series("R", row_survey + 1, _width(int(sent.sum())), "response_id"),
        "interaction_id": _take(cols["interaction_id"], row_contact),
        "customer_id": _take(cols["customer_id"], row_contact),
        "channel": _cat_series(CHANNELS, ch[row_contact], "channel"),
        "contact_reason": _cat_series(REASONS, c["rsn"][row_contact], "contact_reason"),
        "agent_id": _cat_series(agent_ids, c["agent"][row_contact], "agent_id"),
        "team": _cat_series(TEAMS, ctx.agent_team[c["agent"][row_contact]], "team"),
        "interaction_at": _dt_series(c["t_open"][row_contact], "interaction_at"),
        "responded_at": _dt_series(responded_rows, "responded_at", is_ans),
        "score": score,
        "scale": _cat_series(("likert5", "nps", "ces7"), question, "scale"),
        "comment": _cat_series(_COMMENTS, row_comment, "comment"),
        "weight": np.ones(len(row_survey)),
    })[RESPONSE_COLUMNS]  # fmt: skip


def _truth(seed, n, start, end, quarters, fy_start, ctx, rates, qa_share, qa_shift,
           ch, rsn, agent, t_open, is_rep, eta, rest_var, sent, agent_ids) -> Truth:  # fmt: skip
    n_ch, n_r = len(CHANNELS), len(REASONS)
    p = expit(eta)

    def mean_by(codes, size, values, weights=None):
        """100 x the (weighted) mean of ``values`` per code, and the number of rows per code."""
        count = np.bincount(codes, minlength=size)
        num = np.bincount(codes, weights=values if weights is None else values * weights, minlength=size)
        den = count if weights is None else np.bincount(codes, weights=weights, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, 100 * num / np.where(den > 0, den, 1), np.nan), count

    # survey-type rates weight each contact by the probability that its survey is answered
    # (sent, times the channel's response rate): the expectation of what the responses show
    w = sent * _per_channel(rates)[ch]
    csat_ch, _ = mean_by(ch, n_ch, p, w)
    csat_ch_all, n_by_ch = mean_by(ch, n_ch, p)
    sent_by_ch = np.bincount(ch, weights=sent, minlength=n_ch).astype(np.int64)
    cell = rsn.astype(np.int64) * n_ch + ch
    rc, _ = mean_by(cell, n_r * n_ch, p, w)
    rc = rc.reshape(n_r, n_ch)
    rc_n = np.bincount(cell, weights=sent, minlength=n_r * n_ch).astype(np.int64).reshape(n_r, n_ch)
    reason_share = rc_n.sum(axis=1) / max(rc_n.sum(), 1)
    std = np.array([np.sum(reason_share * rc[:, j]) if np.all(rc_n[reason_share > 0, j] > 0) else np.nan
                    for j in range(n_ch)])  # fmt: skip
    prom = expit(eta - _NPS_CUTPOINTS[8])
    det = 1 - expit(eta - _NPS_CUTPOINTS[6])
    nps_ch, _ = mean_by(ch, n_ch, prom - det, w)
    nps_ch_all, _ = mean_by(ch, n_ch, prom - det)
    low_effort, _ = mean_by(ch, n_ch, expit(eta - _CES_CUTPOINTS[4]), w)
    mean_score = 1 + sum(expit(eta - k) for k in _CUTPOINTS)
    mean_ch, _ = mean_by(ch, n_ch, mean_score, w)
    del mean_score
    churn_lin = (
        _CHURN_COEF["intercept"]
        + _CHURN_COEF["cancellation"] * (rsn == REASONS.index("cancellation"))
        + _CHURN_COEF["repeat_contact"] * is_rep
    )
    churn_p = p * expit(churn_lin) + (1 - p) * expit(churn_lin + _CHURN_COEF["dissatisfied"])
    del churn_lin
    churn_ch, _ = mean_by(ch, n_ch, churn_p)
    by_channel = pd.DataFrame(
        {
            "contacts": n_by_ch, "sent": sent_by_ch, "csat": csat_ch, "csat_all": csat_ch_all, "csat_std": std,
            "mean_score": mean_ch / 100, "nps": nps_ch, "nps_all": nps_ch_all, "low_effort": low_effort,
            "churn": churn_ch,
        },
        index=pd.Index(list(CHANNELS), name="channel"),
    )  # fmt: skip
    reason_csat, _ = mean_by(rsn.astype(np.int64), n_r, p, w)

    # quarters of the (fiscal) calendar that overlap the period
    first = Period.containing(start, "quarter", fy_start=fy_start)
    periods = [first]
    while periods[-1].end < end:
        periods.append(periods[-1].next())
    bounds = np.array([q.start.value // 10**9 for q in periods], dtype=np.int64)
    q_code = np.searchsorted(bounds, t_open, side="right") - 1
    q_csat, _ = mean_by(q_code, len(periods), p, w)
    q_csat_all, q_n = mean_by(q_code, len(periods), p)
    q_sent = np.bincount(q_code, weights=sent, minlength=len(periods)).astype(np.int64)
    quarter_csat = pd.DataFrame({
        "quarter": [q.label for q in periods], "quarter_start": [q.start for q in periods],
        "contacts": q_n, "sent": q_sent, "csat": q_csat, "csat_all": q_csat_all,
    })  # fmt: skip
    a_csat, _ = mean_by(agent.astype(np.int64), len(agent_ids), p, w)

    agents = pd.DataFrame(
        {
            "team": [TEAMS[t] for t in ctx.agent_team],
            "channel": [CHANNELS[c] for c in ctx.agent_channel],
            "effect": ctx.agent_effect,
            "skill": ctx.agent_skill,
            "volume": np.concatenate([ctx.agent_p[c] for c in range(n_ch)]),
        },
        index=pd.Index(agent_ids, name="agent_id"),
    )
    attenuation = 1.0 / math.sqrt(1.0 + _LOGISTIC_PROBIT * rest_var)
    items = list(ITEMS)
    item_effects = {col: spec[4] for col, spec in zip(items, _ITEM_SPEC.values())}
    reason_mix = pd.DataFrame(ctx.reason_mix, index=pd.Index(list(CHANNELS), name="channel"),
                              columns=pd.Index(list(REASONS), name="contact_reason"))  # fmt: skip
    rc_index = pd.Index(list(REASONS), name="contact_reason")
    rc_columns = pd.Index(list(CHANNELS), name="channel")
    return Truth(
        seed=seed, n_contacts=n, start=start, end=end, quarters=quarters, fy_start=fy_start,
        channels=CHANNELS, reasons=REASONS, teams=TEAMS, evaluators=EVALUATORS, items=ITEMS,
        channel_share=dict(zip(CHANNELS, ctx.channel_p.tolist())),
        reason_mix=reason_mix,
        channel_logit=dict(_CHANNEL_LOGIT), reason_logit=dict(_REASON_LOGIT),
        agents=agents, agent_effects=agents["effect"].rename("agent_effect"), agent_sd=_AGENT_SD,
        item_effects=item_effects,
        item_effects_marginal={k: v * attenuation for k, v in item_effects.items()},
        item_scales={col: (spec[0], spec[1]) for col, spec in zip(items, _ITEM_SPEC.values())},
        item_probs={col: spec[2] for col, spec in zip(items, _ITEM_SPEC.values())},
        item_centres=dict(zip(items, _ITEM_CENTRES)),
        item_loadings=dict(zip(items, _ITEM_LOADING.tolist())),
        item_common_loading=_ITEM_COMMON,
        item_weights=dict(zip(items, _ITEM_WEIGHT.tolist())),
        evaluator_offsets=dict(zip(EVALUATORS, ctx.evaluator_offset.tolist())),
        evaluator_qa_shift=qa_shift,
        trend_per_quarter=_TREND_PER_QUARTER, frt_effect=_FRT_EFFECT,
        frt_median_minutes=dict(_FRT_MEDIAN), frt_sigma=dict(_FRT_SIGMA),
        repeat_logit=_REPEAT_LOGIT, repeat_coef=dict(_REPEAT_COEF), repeat_reason_logit=dict(_REPEAT_REASON),
        channel_switch_prob=_SWITCH_PROB,
        cutpoints=_CUTPOINTS, nps_cutpoints=_NPS_CUTPOINTS, ces_cutpoints=_CES_CUTPOINTS,
        answer_corr=_ANSWER_CORR, churn_coef=dict(_CHURN_COEF),
        survey_send_rate=dict(_SEND_RATE), response_rate=dict(rates),
        fatigue_days=_FATIGUE_DAYS, fatigue_prob=_FATIGUE_PROB, qa_share=qa_share,
        by_channel=by_channel,
        channel_csat=dict(zip(CHANNELS, csat_ch.tolist())),
        channel_csat_all=dict(zip(CHANNELS, csat_ch_all.tolist())),
        channel_csat_std=dict(zip(CHANNELS, std.tolist())),
        overall_csat=float(100 * np.sum(p * w) / w.sum()) if w.sum() > 0 else float("nan"),
        overall_csat_all=float(100 * p.mean()),
        overall_nps=float(100 * np.sum((prom - det) * w) / w.sum()) if w.sum() > 0 else float("nan"),
        reason_csat=dict(zip(REASONS, reason_csat.tolist())),
        reason_channel_csat=pd.DataFrame(rc, index=rc_index, columns=rc_columns),
        reason_channel_n=pd.DataFrame(rc_n, index=rc_index.copy(), columns=rc_columns.copy()),
        quarter_csat=quarter_csat,
        agent_csat=pd.Series(a_csat, index=pd.Index(agent_ids, name="agent_id"), name="csat"),
    )  # fmt: skip


def demo(seed: int = 0) -> SynthData:
    """The demo data set: ``generate(n_contacts=150_000, seed=seed)`` (2024Q4 to 2026Q4).

    About 2,500 answered surveys a quarter: enough for every channel to be estimated in the demo
    quarterly report, few enough to generate in a second.

    Examples
    --------
    >>> d = demo()
    >>> len(d.contacts)
    150000
    """
    return generate(n_contacts=150_000, seed=seed)
