"""Hand-written wire copies as editors rework them, and texts that must stay apart.

Each ``Case`` pairs a stored ``original`` with a ``variant`` that arrives later, and says
whether the two are one story. Copies: a new lede, a cut ending, an inserted paragraph, a
photo caption, a translated headline. Apart: the same event told by another reporter, and
templated texts (weather, game results, markets) whose sentences repeat around other
figures. ``tests/test_wire_copies.py`` and ``bench/bench_clusters.py`` both use them.

Every story, outlet and person here is invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """A headline and its paragraphs."""

    title: str
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Case:
    """A stored text and one arriving after it."""

    kind: str
    original: Text
    variant: Text
    #: Whether the two are one story.
    copy: bool


WIRE = Text(
    "Ottawa extends work permits for caregivers as backlog tops 40,000",
    (
        "OTTAWA — The federal government will extend the work permits of home-care workers "
        "whose permanent residence applications are still being processed, the immigration "
        "minister announced Thursday, as the backlog in the caregiver programs passed 40,000 "
        "files.",
        "Caregivers whose permits expire in the next 18 months will receive a two-year "
        "extension automatically, without having to file a new application or pay the fee, "
        "according to a notice published by the department.",
        "The measure is meant to keep about 12,000 workers from falling out of status while "
        "they wait, a situation advocates say has pushed some of them to leave the country "
        "or to work without a permit.",
        "Speaking in Mississauga, the minister said the department had hired 300 additional "
        "officers to process the files and expected to cut waiting times by half before the "
        "end of next year.",
        "Groups representing caregivers welcomed the extension but said it did not address "
        "the cap of 2,750 new applications per stream, which was reached within hours when "
        "the intake opened in March.",
        "The Opposition critic said the government had created the backlog itself by "
        "changing the rules three times in four years, and called for an independent review "
        "of the programs.",
        "Quebec, which runs its own selection of economic immigrants, said it would study "
        "how the extension applies to caregivers working in the province before commenting "
        "further.",
    ),
)

#: A regional daily's rewrite: its own lede, the other six paragraphs word for word.
NEW_LEDE = Text(
    "Caregivers waiting on permanent residence get a reprieve on work permits",
    (
        "Thousands of home-care workers in the region who feared losing their right to work "
        "while their permanent residence applications sit in Ottawa's immigration backlog got "
        "a reprieve on Thursday.",
        *WIRE.paragraphs[1:],
    ),
)

#: A site that ran only the top of the story.
CUT_ENDING = Text(WIRE.title, WIRE.paragraphs[:4])

#: A local paragraph inserted in the middle, and a credit line added at the end.
INSERTED_PARAGRAPH = Text(
    WIRE.title,
    (
        *WIRE.paragraphs[:3],
        "In Winnipeg, the Filipino community association said about 600 caregivers in the "
        "city were waiting for an answer, some of them for more than three years, and would "
        "hold an information session on Saturday.",
        *WIRE.paragraphs[3:],
        "With files from the newsroom.",
    ),
)

#: A photo and its caption between the lede and the rest.
PHOTO_CAPTION = Text(
    WIRE.title,
    (
        WIRE.paragraphs[0],
        "A home-care worker helps an elderly client with her morning exercises in a "
        "Mississauga apartment on Wednesday. (Photo: staff photographer)",
        *WIRE.paragraphs[1:],
    ),
)

#: A French-language outlet that ran the English copy under a headline of its own.
TRANSLATED_HEADLINE = Text(
    "Ottawa prolonge les permis de travail des aides familiales",
    WIRE.paragraphs,
)

#: The same announcement by another newsroom: same facts, same quote, its own words.
SAME_EVENT = Text(
    "Immigration department extends permits of caregivers awaiting permanent residence",
    (
        "Home-care workers waiting on their permanent residence files will not lose their "
        "permits in the meantime, Immigration, Refugees and Citizenship Canada said on "
        "Thursday.",
        "The department will extend for two years the permits that expire within the next "
        "18 months, at no cost to the workers. About 12,000 people are affected, out of a "
        "backlog that now exceeds 40,000 applications.",
        "Speaking in Mississauga, the minister said the department had hired 300 additional "
        "officers to process the files and expected to cut waiting times by half before the "
        "end of next year.",
        "A lawyer who represents several caregivers said her clients had been living "
        "with the fear of losing their jobs for months, and that the news came as a relief, "
        "even if it only buys time.",
        "The caregiver pilots opened in March with a limit of 2,750 applications per stream, "
        "a limit reached the same day. The department has not said when the next intake "
        "will open.",
    ),
)


def _weather(city: str, high: int, low: int, rain: int, wind: int) -> Text:
    return Text(
        f"Weather for {city}: high of {high}, low of {low}",
        (
            f"Expect a mix of sun and cloud in {city} today, with a high of {high} degrees "
            f"and a {rain} per cent chance of showers in the afternoon.",
            f"Winds from the southwest will gust up to {wind} kilometres an hour by evening, "
            f"and the temperature will fall to a low of {low} degrees overnight.",
            "Forecasts are updated several times a day and can change quickly; check the "
            "latest conditions before you travel or plan outdoor activities.",
            "Weather alerts for your area are issued by the national weather service and "
            "appear on this page as soon as they are published.",
            "Air quality readings and the ultraviolet index are shown below the forecast "
            "when they are available for your community.",
        ),
    )


def _game(home: str, away: str, score: str, scorer: str, goals: int, shots: int) -> Text:
    return Text(
        f"{home} beat {away} {score}",
        (
            f"{scorer} scored {goals} goals as the {home} beat the {away} {score} on "
            f"Saturday night before a sellout crowd.",
            f"The {home} outshot the {away} {shots} to {shots - 9} and scored twice on the "
            f"power play in the second period.",
            "Both teams return to practice on Monday before a three-game road trip that "
            "will take them through the western conference.",
            "The game summary, the box score and the highlights are available on the "
            "league's website and in the team's official app.",
            "Single-game tickets for the rest of the regular season go on sale to the "
            "general public next week, after the presale for season ticket holders.",
        ),
    )


def _markets(index: float, change: float, dollar: float, oil: float) -> Text:
    return Text(
        f"Markets close: main index at {index:,.2f}",
        (
            f"The main stock index closed at {index:,.2f} on Friday, a change of "
            f"{change:+.2f} points, as energy and financial shares led trading.",
            f"The Canadian dollar traded for {dollar:.2f} cents US, and the January crude "
            f"contract settled at US${oil:.2f} per barrel.",
            "Market data is provided by the exchange and may be delayed by up to fifteen "
            "minutes during the trading session.",
            "This report is generated automatically from the closing figures and is not "
            "investment advice; consult a registered adviser before making decisions.",
            "Figures for the previous sessions, the most active stocks and the biggest "
            "movers of the day are listed in the table below.",
        ),
    )


CASES: tuple[Case, ...] = (
    Case("new_lede", WIRE, NEW_LEDE, copy=True),
    Case("cut_ending", WIRE, CUT_ENDING, copy=True),
    Case("inserted_paragraph", WIRE, INSERTED_PARAGRAPH, copy=True),
    Case("photo_caption", WIRE, PHOTO_CAPTION, copy=True),
    Case("translated_headline", WIRE, TRANSLATED_HEADLINE, copy=True),
    Case("same_event", WIRE, SAME_EVENT, copy=False),
    Case(
        "weather",
        _weather("Trois-Rivières", 14, 3, 40, 50),
        _weather("Sherbrooke", 12, 1, 60, 40),
        copy=False,
    ),
    Case(
        "game_result",
        _game("Harbourmen", "Voyageurs", "4-2", "Maxime Tardif", 2, 34),
        _game("Harbourmen", "Prospectors", "3-1", "Liam Okafor", 2, 31),
        copy=False,
    ),
    Case(
        "markets",
        _markets(24_812.35, 112.4, 71.84, 68.12),
        _markets(24_640.02, -172.33, 71.52, 67.4),
        copy=False,
    ),
)
