"""Words the benchmark corpus is made of: outlets, sections, and sentence templates.

Templates hold ``{slot}`` placeholders filled from ``SLOTS`` (or from the number slots that
``bench.corpus`` computes), so every article gets its own names, places and figures: the
texts stay distinct without looking machine-made. Relevant topics use the vocabulary Vigie's
taxonomy looks for (asylum seekers / demandeurs d'asile, immigration levels / seuils, PEQ,
Roxham Road, IRCC ...); the off-topic ones must not, or the relevance scores would be noise.
"""

from __future__ import annotations

from typing import Final

#: (slug, display name, language) of the outlets; feeds are dealt to them in this order, so
#: English and French alternate even in a tiny corpus.
OUTLETS: Final = (
    ("cbc-news", "CBC News", "en"),
    ("radio-canada", "Radio-Canada", "fr"),
    ("montreal-gazette", "Montreal Gazette", "en"),
    ("la-presse", "La Presse", "fr"),
    ("global-news", "Global News", "en"),
    ("le-devoir", "Le Devoir", "fr"),
    ("ctv-news", "CTV News", "en"),
    ("journal-de-montreal", "Le Journal de Montréal", "fr"),
    ("globe-and-mail", "The Globe and Mail", "en"),
    ("tva-nouvelles", "TVA Nouvelles", "fr"),
    ("toronto-star", "Toronto Star", "en"),
    ("le-soleil", "Le Soleil", "fr"),
    ("citynews", "CityNews Montreal", "en"),
    ("metro-montreal", "Métro", "fr"),
    ("canada-news-centre", "Canada News Centre", "en"),
    ("quebec-ca", "Québec.ca — Nouvelles", "fr"),
)

#: Sections per language, with the share of relevant stories in each and the off-topic
#: topics it draws from otherwise.
SECTIONS: Final = {
    "en": (
        ("immigration", 0.9, ("local",)),
        ("politics", 0.5, ("business", "local")),
        ("canada", 0.4, ("local", "business", "weather")),
        ("montreal", 0.25, ("local", "weather", "sports")),
        ("business", 0.1, ("business",)),
        ("sports", 0.0, ("sports",)),
        ("weather", 0.0, ("weather",)),
        ("top-stories", 0.35, ("sports", "business", "weather", "local")),
    ),
    "fr": (
        ("immigration", 0.9, ("local",)),
        ("politique", 0.5, ("business", "local")),
        ("national", 0.4, ("local", "business", "weather")),
        ("grand-montreal", 0.25, ("local", "weather", "sports")),
        ("economie", 0.1, ("business",)),
        ("sports", 0.0, ("sports",)),
        ("meteo", 0.0, ("weather",)),
        ("a-la-une", 0.35, ("sports", "business", "weather", "local")),
    ),
}

RELEVANT_TOPICS: Final = ("asylum", "levels", "family", "visas", "powers", "peq", "roxham")

SLOTS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "en": {
        "fed_minister": (
            "Immigration Minister Marc Miller",
            "federal Immigration Minister Marc Miller",
            "Public Safety Minister Dominic LeBlanc",
        ),
        "pm": ("Prime Minister Justin Trudeau", "Justin Trudeau"),
        "premier": ("Premier François Legault", "Quebec Premier François Legault"),
        "qc_minister": (
            "Quebec Immigration Minister Jean-François Roberge",
            "Quebec Immigration Minister Christine Fréchette",
        ),
        "opposition": (
            "Conservative Leader Pierre Poilievre",
            "Bloc Québécois Leader Yves-François Blanchet",
            "Parti Québécois Leader Paul St-Pierre Plamondon",
            "Québec solidaire spokesperson Ruba Ghazal",
            "Liberal MNA Monsef Derraji",
        ),
        "city": (
            "Montreal", "Quebec City", "Sherbrooke", "Gatineau", "Laval", "Trois-Rivières",
            "Saguenay", "Longueuil", "Drummondville", "Rimouski", "Saint-Jérôme", "Granby",
        ),
        "group": (
            "the Table de concertation des organismes au service des personnes réfugiées",
            "the Canadian Council for Refugees",
            "the Quebec Immigration Lawyers Association",
            "the Fédération des chambres de commerce du Québec",
            "a coalition of community organizations",
            "the Conseil du patronat du Québec",
        ),
        "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
        "team": ("the Canadiens", "the Alouettes", "CF Montréal", "the Laval Rocket"),
        "opponent": (
            "the Maple Leafs", "the Bruins", "the Senators", "the Lightning", "the Rangers",
            "the Red Wings", "the Flames", "the Oilers", "the Toronto Argonauts",
        ),
        "player": (
            "Nick Suzuki", "Cole Caufield", "Juraj Slafkovsky", "Lane Hutson", "Sam Montembeault",
            "Kirby Dach", "Mike Matheson", "Patrik Laine", "Josh Anderson", "Ivan Demidov",
        ),
        "company": (
            "Hydro-Québec", "Bombardier", "CGI", "Couche-Tard", "Desjardins", "Saputo",
            "Air Canada", "CN", "BRP", "Cascades", "Quebecor", "National Bank",
        ),
        "region": (
            "southern Quebec", "the Eastern Townships", "the Laurentians", "the Outaouais",
            "the Saguenay–Lac-Saint-Jean region", "the Gaspé Peninsula", "greater Montreal",
        ),
        "borough": (
            "Plateau-Mont-Royal", "Rosemont", "Verdun", "Saint-Laurent", "Ahuntsic",
            "Hochelaga-Maisonneuve", "Côte-des-Neiges", "Villeray", "LaSalle", "Anjou",
        ),
        "dateline": ("OTTAWA", "MONTREAL", "QUEBEC"),
    },
    "fr": {
        "fed_minister": (
            "le ministre fédéral de l'Immigration, Marc Miller",
            "le ministre Marc Miller",
            "le ministre de la Sécurité publique, Dominic LeBlanc",
        ),
        "pm": ("le premier ministre Justin Trudeau", "Justin Trudeau"),
        "premier": ("le premier ministre François Legault", "François Legault"),
        "qc_minister": (
            "le ministre de l'Immigration, Jean-François Roberge",
            "la ministre de l'Immigration, Christine Fréchette",
        ),
        "opposition": (
            "le chef conservateur Pierre Poilievre",
            "le chef du Bloc québécois, Yves-François Blanchet",
            "le chef péquiste Paul St-Pierre Plamondon",
            "la porte-parole de Québec solidaire, Ruba Ghazal",
            "le député libéral Monsef Derraji",
        ),
        "city": (
            "Montréal", "Québec", "Sherbrooke", "Gatineau", "Laval", "Trois-Rivières",
            "Saguenay", "Longueuil", "Drummondville", "Rimouski", "Saint-Jérôme", "Granby",
        ),
        "group": (
            "la Table de concertation des organismes au service des personnes réfugiées",
            "le Conseil canadien pour les réfugiés",
            "l'Association québécoise des avocats et avocates en droit de l'immigration",
            "la Fédération des chambres de commerce du Québec",
            "une coalition d'organismes communautaires",
            "le Conseil du patronat du Québec",
        ),
        "weekday": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"),
        "team": ("le Canadien", "les Alouettes", "le CF Montréal", "le Rocket de Laval"),
        "opponent": (
            "les Maple Leafs", "les Bruins", "les Sénateurs", "le Lightning", "les Rangers",
            "les Red Wings", "les Flames", "les Oilers", "les Argonauts de Toronto",
        ),
        "player": (
            "Nick Suzuki", "Cole Caufield", "Juraj Slafkovsky", "Lane Hutson", "Sam Montembeault",
            "Kirby Dach", "Mike Matheson", "Patrik Laine", "Josh Anderson", "Ivan Demidov",
        ),
        "company": (
            "Hydro-Québec", "Bombardier", "CGI", "Couche-Tard", "Desjardins", "Saputo",
            "Air Canada", "le CN", "BRP", "Cascades", "Québecor", "la Banque Nationale",
        ),
        "region": (
            "le sud du Québec", "les Cantons-de-l'Est", "les Laurentides", "l'Outaouais",
            "le Saguenay–Lac-Saint-Jean", "la Gaspésie", "la grande région de Montréal",
        ),
        "borough": (
            "Plateau-Mont-Royal", "Rosemont", "Verdun", "Saint-Laurent", "Ahuntsic",
            "Hochelaga-Maisonneuve", "Côte-des-Neiges", "Villeray", "LaSalle", "Anjou",
        ),
        "dateline": ("OTTAWA", "MONTRÉAL", "QUÉBEC"),
    },
}  # fmt: skip

#: topic -> (headline templates, sentence templates), per language.
TOPICS: Final[dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]]] = {
    "en": {
        "asylum": (
            (
                "Quebec asks Ottawa to take in more asylum seekers as shelters in {city} fill up",
                "Asylum claims in Quebec up {pct} per cent, IRCC figures show",
                "{fed_minister} promises {money} to provinces housing asylum seekers",
                "Asylum seekers wait months for work permits in {city}",
                "Refugee claimants in {city} face {small}-month waits for hearings",
            ),
            (
                "Quebec received {n} asylum claims in the first {small} months of the year.",
                "{premier} said the province has reached its limit and asked Ottawa to "
                "spread asylum seekers across Canada.",
                "{group} warned that shelters in {city} were turning families away.",
                "The Immigration and Refugee Board now has a backlog of {n} refugee claims.",
                "Ottawa has already paid {money} to cover the cost of housing asylum seekers.",
                "Many asylum seekers wait more than {small} months before they can work legally.",
                "{fed_minister} said a new system would process work permits in {small} weeks.",
                "Advocates say refugee claimants are being blamed for the housing shortage.",
            ),
        ),
        "levels": (
            (
                "Ottawa cuts immigration levels: {n} permanent residents in {year}",
                "{premier} wants to lower Quebec's immigration thresholds to {n}",
                "Immigration levels plan: what changes for Quebec in {year}",
                "{group} criticizes lower immigration targets",
                "Quebec opens consultations on {year} immigration planning in {city}",
            ),
            (
                "The federal immigration levels plan sets a target of {n} permanent residents "
                "for {year}.",
                "{qc_minister} said Quebec would admit between {n} and {n2} immigrants next year.",
                "{premier} has long argued that the province cannot integrate more than {n} "
                "newcomers a year.",
                "{group} said lower immigration thresholds would deepen the labour shortage.",
                "The number of temporary residents rose to {n} in Quebec, a {pct} per cent "
                "increase.",
                "{opposition} accused the government of losing control of the immigration system.",
                "The plan also reduces the share of economic immigrants to {pct} per cent.",
                "The consultations on immigration planning will end on {weekday}.",
            ),
        ),
        "family": (
            (
                "Family reunification: {n} applications stuck in Quebec's cap",
                "Spouses wait up to {small} years as Quebec limits family sponsorship",
                "{group} challenges Quebec's family reunification quota",
                "Families separated by immigration delays rally in {city}",
            ),
            (
                "Quebec capped family reunification at {n} applications for the year.",
                "Some spouses have waited {small} years to join their partners in {city}.",
                "{group} filed a court challenge against the cap on family sponsorship.",
                "IRCC says processing times for sponsored spouses outside Quebec are {small} "
                "months.",
                "{qc_minister} said the cap was needed to keep immigration levels under control.",
                "Families told reporters they had missed births and funerals because of delays.",
                "{opposition} called the family reunification quota inhumane.",
            ),
        ),
        "visas": (
            (
                "Canada reimposes visa requirement on Mexican travellers, {small} months after "
                "warning",
                "Study permits for international students cut by {pct} per cent",
                "Visa delays: IRCC backlog reaches {n} applications",
                "Colleges in {city} lose international students after study permit cap",
                "Visitor visa refusals climb to {pct} per cent as Ottawa tightens rules",
            ),
            (
                "IRCC said it would issue {n} fewer study permits next year.",
                "Visitor visa refusals reached {pct} per cent, according to federal data.",
                "Colleges in {city} said international student enrolment dropped {pct} per cent.",
                "{fed_minister} said the visa requirement would reduce unfounded asylum claims.",
                "The backlog of visa applications stood at {n} at the end of the month.",
                "{group} said the study permit cap was hurting French-language institutions.",
                "Temporary visas now account for a growing share of newcomers to Quebec.",
            ),
        ),
        "powers": (
            (
                "Legault demands full powers over immigration ahead of meeting in {city}",
                "Quebec and Ottawa clash over {n} temporary immigrants",
                "Trudeau rejects Quebec's request for more immigration powers, {opposition} reacts",
                "Quebec-Ottawa immigration talks end without agreement on {weekday}",
            ),
            (
                "{premier} asked Ottawa to hand Quebec full control over immigration, "
                "including temporary workers.",
                "{pm} said the Canada-Quebec Accord already gives Quebec broad powers.",
                "The province wants to select all temporary foreign workers and family-class "
                "immigrants.",
                "{qc_minister} met {fed_minister} in {city} on {weekday}.",
                "{opposition} said the dispute over immigration powers was a federal failure.",
                "Quebec says it needs the powers to protect the French language.",
                "Ottawa has offered {money} for francization but no transfer of powers.",
            ),
        ),
        "peq": (
            (
                "Quebec suspends the PEQ for foreign graduates until {year}",
                "{n} temporary foreign workers fear for their status as the PEQ closes",
                "Quebec freezes low-wage temporary foreign worker permits in {city}",
                "Employers in {region} warn of closures without foreign workers",
            ),
            (
                "The Programme de l'expérience québécoise (PEQ) was suspended until {year}.",
                "About {n} temporary foreign workers in {region} hoped to apply through the PEQ.",
                "Employers say temporary foreign workers fill {pct} per cent of jobs at some "
                "plants.",
                "{qc_minister} said the PEQ would return with stricter French requirements.",
                "{group} said the freeze on low-wage permits would hurt farms in {region}.",
                "International students who graduated in {city} now face an uncertain path to "
                "permanent residence.",
                "The Quebec Experience Program once approved {n} candidates a year.",
            ),
        ),
        "roxham": (
            (
                "Two years after Roxham Road closed, irregular crossings shift to {region}",
                "RCMP intercepts {small} migrants near Lacolle after Roxham Road closure",
                "Safe Third Country Agreement: Roxham Road quiet, {city} worries",
                "Migrants cross the border on foot near {city} despite the cold",
            ),
            (
                "Irregular crossings at Roxham Road stopped after the Safe Third Country "
                "Agreement was extended.",
                "The RCMP said it intercepted {small} people crossing the border near Lacolle "
                "this week.",
                "{premier} had long asked Ottawa to close Roxham Road.",
                "Border communities report more crossings in the woods near {city}.",
                "The Canada Border Services Agency added {small} officers at the border.",
                "{group} said closing Roxham Road pushed migrants toward more dangerous routes.",
                "Asylum claims at the land border fell by {pct} per cent.",
            ),
        ),
        "sports": (
            (
                "{team} beat {opponent} {score} behind {player}'s two goals",
                "{player} scores in overtime as {team} edge {opponent}",
                "{team} fall to {opponent} {score} in a lopsided loss",
                "Injury update: {player} out for {small} weeks",
                "{team} open a {small}-game road trip against {opponent}",
            ),
            (
                "{player} scored twice and added an assist as {team} won {score}.",
                "The coach said the power play finally found its rhythm.",
                "{team} have won {small} of their last {small2} games.",
                "{player} will miss at least {small} weeks with a lower-body injury.",
                "The goalie stopped {n_shots} shots in the win over {opponent}.",
                "Fans at the Bell Centre gave the team a standing ovation after the third period.",
                "{team} host {opponent} on {weekday} night.",
            ),
        ),
        "weather": (
            (
                "Snowfall warning for {region}: up to {cm} cm expected",
                "Freezing rain to hit {city} on {weekday}",
                "Cold snap: temperatures to drop to minus {temp} in {region}",
                "Mild and sunny weekend ahead for {city}",
            ),
            (
                "Environment Canada issued a snowfall warning for {region}.",
                "Up to {cm} centimetres of snow could fall by {weekday} evening.",
                "Winds gusting to {kmh} km/h could cause blowing snow on highways.",
                "Temperatures will drop to minus {temp} overnight in {city}.",
                "Hydro-Québec said crews were ready in case of power outages.",
                "Drivers are advised to check road conditions before leaving.",
                "The sun should return by the weekend with highs near {small} degrees.",
            ),
        ),
        "business": (
            (
                "{company} posts quarterly profit of {money}",
                "{company} to cut {small} hundred jobs in {city}",
                "Bank of Canada holds its key rate at {rate} per cent, {company} reacts",
                "Housing starts rise {pct} per cent in greater Montreal",
                "{company} shares jump after earnings beat forecasts",
            ),
            (
                "{company} reported a profit of {money} for the quarter.",
                "Revenue rose {pct} per cent compared with the same period last year.",
                "The company said it would invest {money} in its plant in {city}.",
                "Analysts had expected slower growth because of weak demand.",
                "The Bank of Canada kept its key interest rate at {rate} per cent.",
                "Shares of {company} closed up {pct} per cent on the Toronto Stock Exchange.",
                "Housing starts in {city} reached {n} units, the highest in a decade.",
            ),
        ),
        "local": (
            (
                "{borough} residents fight new bike path",
                "Montreal to spend {money} on snow removal this winter",
                "Metro line closures planned in {borough} for the weekend",
                "{city} library reopens after {small}-year renovation",
            ),
            (
                "The borough of {borough} will hold a public consultation on {weekday}.",
                "The city plans to spend {money} on road repairs next year.",
                "Residents of {borough} complained about noise from the construction site.",
                "The STM said shuttle buses would replace the metro between two stations.",
                "The library in {city} reopened with a new children's section.",
                "The mayor said the project would be finished by {year}.",
                "About {n} people signed a petition against the plan.",
            ),
        ),
    },
    "fr": {
        "asylum": (
            (
                "Québec demande à Ottawa de répartir les demandeurs d'asile, les refuges de "
                "{city} débordent",
                "Hausse de {pct} % des demandes d'asile au Québec, selon IRCC",
                "Demandeurs d'asile : les refuges de {city} débordent",
                "Ottawa versera {money} aux provinces pour l'hébergement des demandeurs d'asile",
                "Les demandeurs d'asile attendent {small} mois avant d'obtenir un permis de "
                "travail",
            ),
            (
                "Le Québec a reçu {n} demandes d'asile au cours des {small} premiers mois "
                "de l'année.",
                "{premier} affirme que la province a atteint sa capacité d'accueil et "
                "demande à Ottawa de mieux répartir les demandeurs d'asile.",
                "{group} signale que des refuges de {city} refusent des familles.",
                "La Commission de l'immigration et du statut de réfugié compte un arriéré de "
                "{n} demandes.",
                "Ottawa a déjà versé {money} pour couvrir les coûts d'hébergement.",
                "Plusieurs demandeurs d'asile attendent plus de {small} mois avant de pouvoir "
                "travailler.",
                "{fed_minister} promet de traiter les permis de travail en {small} semaines.",
                "Des organismes dénoncent le fait que les réfugiés soient tenus responsables "
                "de la crise du logement.",
            ),
        ),
        "levels": (
            (
                "Seuils d'immigration : Ottawa vise {n} résidents permanents en {year}",
                "{premier} veut abaisser les seuils d'immigration à {n} par année",
                "Planification de l'immigration : ce qui change pour le Québec en {year}",
                "{group} critique la baisse des seuils d'immigration",
                "Québec lance à {city} ses consultations sur la planification de l'immigration "
                "{year}",
            ),
            (
                "Le plan fédéral des niveaux d'immigration prévoit {n} résidents permanents "
                "en {year}.",
                "{qc_minister} affirme que le Québec accueillera entre {n} et {n2} immigrants "
                "l'an prochain.",
                "{premier} soutient depuis longtemps que le Québec ne peut intégrer plus de "
                "{n} nouveaux arrivants par année.",
                "{group} estime que des seuils plus bas aggraveront la pénurie de main-d'œuvre.",
                "Le nombre de résidents temporaires a atteint {n} au Québec, une hausse de {pct} "
                "%.",
                "{opposition} accuse le gouvernement d'avoir perdu le contrôle de l'immigration.",
                "La part de l'immigration économique passerait à {pct} %.",
                "Les consultations sur la planification de l'immigration prendront fin {weekday}.",
            ),
        ),
        "family": (
            (
                "Regroupement familial : {n} dossiers bloqués par le plafond de Québec",
                "Des conjoints de {city} attendent jusqu'à {small} ans pour être réunis",
                "{group} conteste le plafond du regroupement familial",
                "Des familles séparées par les délais d'immigration manifestent à {city}",
            ),
            (
                "Québec a plafonné le regroupement familial à {n} demandes cette année.",
                "Certains conjoints attendent depuis {small} ans de rejoindre leur partenaire "
                "à {city}.",
                "{group} conteste devant les tribunaux le plafond du parrainage familial.",
                "Hors Québec, IRCC traite les demandes de parrainage de conjoints en {small} mois.",
                "{qc_minister} soutient que ce plafond est nécessaire pour respecter les seuils.",
                "Des familles racontent avoir manqué des naissances et des funérailles.",
                "{opposition} qualifie le plafond du regroupement familial d'inhumain.",
            ),
        ),
        "visas": (
            (
                "Le Canada impose de nouveau un visa aux voyageurs mexicains, {small} mois après "
                "un avertissement",
                "Permis d'études : baisse de {pct} % pour les étudiants étrangers",
                "Visas : l'arriéré d'IRCC atteint {n} demandes",
                "Les cégeps de {city} perdent des étudiants internationaux après le plafond "
                "fédéral",
                "Les refus de visas de visiteur grimpent à {pct} %",
            ),
            (
                "IRCC délivrera {n} permis d'études de moins l'an prochain.",
                "Le taux de refus des visas de visiteur a atteint {pct} %, selon les données "
                "fédérales.",
                "Les cégeps de {city} constatent une baisse de {pct} % des étudiants étrangers.",
                "{fed_minister} affirme que l'obligation de visa réduira les demandes d'asile "
                "non fondées.",
                "L'arriéré des demandes de visa s'élevait à {n} à la fin du mois.",
                "{group} estime que le plafond nuit aux établissements francophones.",
                "Les visas temporaires représentent une part croissante des nouveaux arrivants.",
            ),
        ),
        "powers": (
            (
                "Legault réclame les pleins pouvoirs en immigration avant une rencontre à {city}",
                "Québec et Ottawa s'affrontent sur {n} immigrants temporaires",
                "Trudeau refuse de céder plus de pouvoirs en immigration, {opposition} réagit",
                "Immigration : les discussions Québec-Ottawa échouent {weekday}",
            ),
            (
                "{premier} demande à Ottawa de confier au Québec tous les pouvoirs en "
                "immigration, y compris les travailleurs temporaires.",
                "{pm} rappelle que l'Accord Canada-Québec donne déjà de larges pouvoirs à "
                "la province.",
                "Québec veut sélectionner tous les travailleurs étrangers temporaires et les "
                "immigrants de la catégorie familiale.",
                "{qc_minister} a rencontré {fed_minister} à {city} {weekday}.",
                "{opposition} estime que le conflit sur les pouvoirs en immigration est un "
                "échec fédéral.",
                "Québec affirme avoir besoin de ces pouvoirs pour protéger la langue française.",
                "Ottawa offre {money} pour la francisation, mais aucun transfert de pouvoirs.",
            ),
        ),
        "peq": (
            (
                "Québec suspend le PEQ pour les diplômés étrangers jusqu'en {year}",
                "{n} travailleurs étrangers temporaires inquiets après la fermeture du PEQ",
                "Gel des permis de travailleurs étrangers à bas salaire à {city}",
                "Des employeurs de {region} craignent des fermetures sans main-d'œuvre étrangère",
            ),
            (
                "Le Programme de l'expérience québécoise (PEQ) est suspendu jusqu'en {year}.",
                "Environ {n} travailleurs étrangers temporaires de {region} espéraient passer "
                "par le PEQ.",
                "Dans certaines usines, les travailleurs étrangers temporaires occupent {pct} % "
                "des postes.",
                "{qc_minister} affirme que le PEQ reviendra avec des exigences de français "
                "plus strictes.",
                "{group} prévient que le gel des permis à bas salaire nuira aux fermes de "
                "{region}.",
                "Les étudiants étrangers diplômés à {city} font face à un parcours incertain "
                "vers la résidence permanente.",
                "Le PEQ a déjà permis de sélectionner {n} candidats par année.",
            ),
        ),
        "roxham": (
            (
                "Deux ans après la fermeture du chemin Roxham, les passages se déplacent vers "
                "{region}",
                "La GRC intercepte {small} migrants près de Lacolle",
                "Entente sur les tiers pays sûrs : le chemin Roxham est calme, {city} s'inquiète",
                "Des migrants traversent la frontière à pied près de {city} malgré le froid",
            ),
            (
                "Les passages irréguliers au chemin Roxham ont cessé après l'élargissement de "
                "l'Entente sur les tiers pays sûrs.",
                "La GRC dit avoir intercepté {small} personnes près de Lacolle cette semaine.",
                "{premier} réclamait depuis longtemps la fermeture du chemin Roxham.",
                "Des communautés frontalières signalent plus de passages dans les bois près "
                "de {city}.",
                "L'Agence des services frontaliers du Canada a ajouté {small} agents à la "
                "frontière.",
                "{group} affirme que la fermeture du chemin Roxham pousse les migrants vers des "
                "routes plus dangereuses.",
                "Les demandes d'asile à la frontière terrestre ont diminué de {pct} %.",
            ),
        ),
        "sports": (
            (
                "{team} bat {opponent} {score} grâce à un doublé de {player}",
                "{player} marque en prolongation et {team} l'emporte contre {opponent}",
                "Dure soirée pour {team}, battu {score} par {opponent}",
                "{player} sera absent {small} semaines",
                "{team} entame un voyage de {small} matchs contre {opponent}",
            ),
            (
                "{player} a marqué deux buts et ajouté une aide dans la victoire de {score}.",
                "L'entraîneur estime que l'avantage numérique a enfin trouvé son rythme.",
                "{team} a gagné {small} de ses {small2} derniers matchs.",
                "{player} ratera au moins {small} semaines en raison d'une blessure au bas du "
                "corps.",
                "Le gardien a repoussé {n_shots} tirs contre {opponent}.",
                "Les partisans au Centre Bell ont ovationné l'équipe après la troisième période.",
                "{team} accueille {opponent} {weekday} soir.",
            ),
        ),
        "weather": (
            (
                "Avertissement de neige pour {region} : jusqu'à {cm} cm",
                "Pluie verglaçante attendue à {city} {weekday}",
                "Vague de froid : jusqu'à moins {temp} degrés dans {region}",
                "Un week-end doux et ensoleillé à {city}",
            ),
            (
                "Environnement Canada a émis un avertissement de neige pour {region}.",
                "Jusqu'à {cm} centimètres de neige pourraient tomber d'ici {weekday} soir.",
                "Des rafales de {kmh} km/h pourraient causer de la poudrerie sur les routes.",
                "Le mercure descendra à moins {temp} degrés cette nuit à {city}.",
                "Hydro-Québec dit avoir des équipes prêtes en cas de pannes.",
                "Les automobilistes sont invités à vérifier l'état des routes avant de partir.",
                "Le soleil devrait revenir en fin de semaine avec des maximums de {small} degrés.",
            ),
        ),
        "business": (
            (
                "{company} affiche un bénéfice trimestriel de {money}",
                "{company} supprimera {small} centaines d'emplois à {city}",
                "La Banque du Canada maintient son taux directeur à {rate} %, {company} réagit",
                "Les mises en chantier bondissent de {pct} % dans la région de Montréal",
                "L'action de {company} grimpe après des résultats supérieurs aux attentes",
            ),
            (
                "{company} a déclaré un bénéfice de {money} pour le trimestre.",
                "Les revenus ont augmenté de {pct} % par rapport à la même période l'an dernier.",
                "L'entreprise investira {money} dans son usine de {city}.",
                "Les analystes prévoyaient une croissance plus lente en raison d'une demande "
                "faible.",
                "La Banque du Canada a maintenu son taux directeur à {rate} %.",
                "L'action de {company} a clôturé en hausse de {pct} % à la Bourse de Toronto.",
                "Les mises en chantier à {city} ont atteint {n} logements, un sommet en dix ans.",
            ),
        ),
        "local": (
            (
                "Des résidents de {borough} s'opposent à une nouvelle piste cyclable",
                "Montréal consacrera {money} au déneigement cet hiver",
                "Fermetures du métro prévues dans {borough} ce week-end",
                "La bibliothèque de {city} rouvre après {small} ans de travaux",
            ),
            (
                "L'arrondissement de {borough} tiendra une consultation publique {weekday}.",
                "La Ville prévoit consacrer {money} à la réfection des rues l'an prochain.",
                "Des résidents de {borough} se plaignent du bruit du chantier.",
                "La STM indique que des navettes remplaceront le métro entre deux stations.",
                "La bibliothèque de {city} rouvre avec une nouvelle section jeunesse.",
                "La mairesse affirme que le projet sera terminé en {year}.",
                "Environ {n} personnes ont signé une pétition contre le projet.",
            ),
        ),
    },
}

#: Sentences that fit any story, to pad article pages to a realistic length.
FILLER: Final = {
    "en": (
        "The announcement was made at a news conference in {city} on {weekday}.",
        "Officials did not say when more details would be released.",
        "The office of {opposition} did not respond to a request for comment.",
        "The story was updated with new information on {weekday}.",
        "Critics say the numbers do not tell the whole story.",
        "A spokesperson said the situation was being monitored closely.",
        "More details are expected in the coming weeks.",
        "Residents of {city} had mixed reactions.",
    ),
    "fr": (
        "L'annonce a été faite en conférence de presse à {city} {weekday}.",
        "Les responsables n'ont pas précisé quand d'autres détails seraient publiés.",
        "Le bureau de {opposition} n'a pas répondu à notre demande d'entrevue.",
        "Ce texte a été mis à jour {weekday} avec de nouvelles informations.",
        "Des critiques estiment que les chiffres ne disent pas tout.",
        "Un porte-parole affirme que la situation est suivie de près.",
        "D'autres détails sont attendus au cours des prochaines semaines.",
        "Les réactions étaient partagées à {city}.",
    ),
}

#: How wire copies are credited and datelined: each near-duplicate variant gets another one,
#: so the copies differ in words (not just punctuation) even where the story is the same.
WIRE_CREDITS: Final = {
    "en": (
        ("{dateline} —", "The Canadian Press"),
        ("{dateline} (CP) —", "This report by The Canadian Press was first published today."),
        ("{dateline}, Que. —", "With files from The Canadian Press."),
        ("The Canadian Press —", "Copyright The Canadian Press. All rights reserved."),
    ),
    "fr": (
        ("{dateline} —", "La Presse Canadienne"),
        ("{dateline} (PC) —", "Cette dépêche a d'abord été publiée par La Presse Canadienne."),
        ("{dateline}, Qc —", "Avec La Presse Canadienne."),
        ("La Presse Canadienne —", "Tous droits réservés, La Presse Canadienne."),
    ),
}

AUTHORS: Final = (
    "Marie-Ève Tremblay", "Jonathan Gagnon", "Sarah Roy", "Alexandre Côté", "Émilie Bouchard",
    "David Gauthier", "Fatima Benali", "Olivier Morin", "Catherine Lavoie", "Samuel Fortin",
    "Amélie Pelletier", "Kevin Nguyen", "Nadia Haddad", "Philippe Bélanger", "Julie Ouellet",
)  # fmt: skip

#: Boilerplate labels of an article page, per language.
PAGE_WORDS: Final = {
    "en": {
        "nav": ("News", "Politics", "Canada", "World", "Business", "Sports", "Weather", "Opinion",
                "Arts", "Life", "Video", "Podcasts", "Newsletters"),
        "cookie": "We use cookies to improve your experience and to measure our audience. "
        "By continuing to browse, you accept our use of cookies. Manage your preferences.",
        "accept": "Accept all",
        "related": "Related stories",
        "read_also": "Read also",
        "footer": ("About us", "Contact", "Careers", "Advertise", "Privacy policy",
                   "Terms of use", "Accessibility", "Corrections", "Newsroom ethics",
                   "Subscribe", "Help centre", "Site map"),
        "subscribe": "Get the morning briefing in your inbox. Sign up for our newsletter.",
        "share": ("Share on Facebook", "Share on X", "Share by email", "Copy link"),
        "by": "By",
        "rights": "All rights reserved.",
    },
    "fr": {
        "nav": ("Actualités", "Politique", "National", "International", "Économie", "Sports",
                "Météo", "Opinions", "Arts", "Société", "Vidéos", "Balados", "Infolettres"),
        "cookie": "Nous utilisons des témoins (cookies) pour améliorer votre expérience et "
        "mesurer notre audience. En poursuivant votre navigation, vous acceptez leur "
        "utilisation. Gérer mes préférences.",
        "accept": "Tout accepter",
        "related": "À lire aussi",
        "read_also": "Lire aussi",
        "footer": ("À propos", "Nous joindre", "Carrières", "Publicité",
                   "Politique de confidentialité", "Conditions d'utilisation", "Accessibilité",
                   "Corrections", "Normes journalistiques", "S'abonner", "Aide", "Plan du site"),
        "subscribe": "Recevez l'essentiel de l'actualité chaque matin. Abonnez-vous à notre "
        "infolettre.",
        "share": ("Partager sur Facebook", "Partager sur X", "Partager par courriel",
                  "Copier le lien"),
        "by": "Par",
        "rights": "Tous droits réservés.",
    },
}  # fmt: skip
