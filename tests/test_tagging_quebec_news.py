"""Quebec and Canadian regional news it was not tuned on (taxonomy 2026.7): the Quebec
Experience Program and the regular skilled worker program, francisation and French
requirements, the pluriannual planning and its targets, the Canada-Quebec Accord, asylum
seekers' distribution among provinces, their housing and costs, closed work permits, study
permit caps, temporary residents' share of the population, provincial nominee programs,
Express Entry draws and citizenship ceremonies; and look-alikes: an old psychiatric asylum,
Europe's right of asylum, poverty, noise and heat thresholds, fishing and dairy quotas,
naturalized athletes, genealogy and history, Visa the card, climate refugees abroad, lottery
and hunting draws. Figures: a government's target is tracked; Express Entry invitations, a
study permit cap, a past total, a party's pledge and an employers' demand are not. Examples
written for these tests, EN and FR, in the forms of ledes and headlines."""

from __future__ import annotations

import pytest

from parsers.tagging import Tagger
from parsers.tracking import tracked_key
from tests.tagged import tag_checked

QUEBEC = "immigration_levels|people|per_year|quebec"
CANADA = "immigration_levels|people|per_year|canada"

RELEVANT: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "peq_suspension": (
        "Le PEQ suspendu jusqu'en 2026",
        (
            "Québec suspend les admissions au volet diplômés du Programme de "
            "l'expérience québécoise jusqu'au 30 juin 2026, a annoncé mercredi le "
            "ministre de l'Immigration, de la Francisation et de l'Intégration. Des "
            "milliers d'étudiants étrangers qui comptaient sur cette voie rapide vers"
            " la résidence permanente se retrouvent dans l'incertitude, dénoncent les"
            " associations étudiantes."
        ),
        ("economic_immigration",),
    ),
    "peq_travailleurs": (
        "« On nous a tiré le tapis sous les pieds »",
        (
            "Arrivée à Rimouski avec un permis de travail en 2022, Fatou comptait "
            "déposer sa demande au PEQ l'automne prochain. La fermeture du programme "
            "par le gouvernement Legault l'oblige maintenant à se tourner vers le "
            "Programme régulier des travailleurs qualifiés, où les invitations se "
            "font au compte-gouttes."
        ),
        ("economic_immigration",),
    ),
    "prtq_arrima": (
        "Travailleurs qualifiés : Québec invite 1 200 candidats",
        (
            "Le ministère de l'Immigration du Québec a invité 1 200 candidats du "
            "Programme régulier des travailleurs qualifiés à présenter une demande de"
            " sélection permanente, selon les résultats de la ronde publiée jeudi "
            "dans Arrima. La majorité des invitations visent des professions de la "
            "santé et de l'éducation."
        ),
        ("economic_immigration",),
    ),
    "francisation_cours_coupes": (
        "Francisation : des classes fermées faute de budget",
        (
            "Des centres de services scolaires de Montréal et de Laval ferment des "
            "dizaines de classes de francisation pour adultes, faute de financement "
            "suffisant de Québec. Des centaines d'immigrants se retrouvent sur des "
            "listes d'attente, alors que le gouvernement exige une meilleure "
            "connaissance du français pour la sélection."
        ),
        ("integration_french",),
    ),
    "francisation_exigence": (
        "Le français obligatoire pour les travailleurs temporaires",
        (
            "Québec exigera une connaissance orale du français de niveau 4 pour le "
            "renouvellement des permis de travail des travailleurs étrangers "
            "temporaires après trois ans, a annoncé le ministre de la Langue "
            "française. Les employeurs de la Beauce craignent de perdre une partie de"
            " leur main-d'œuvre."
        ),
        ("integration_french", "temporary_residents"),
    ),
    "planif_consultation": (
        "Planification pluriannuelle : la consultation s'ouvre",
        (
            "La commission parlementaire sur la planification pluriannuelle de "
            "l'immigration s'ouvre mardi à Québec. Le gouvernement propose "
            "d'accueillir entre 45 000 et 50 000 immigrants permanents par année de "
            "2026 à 2029, alors que le Conseil du patronat réclame plutôt un seuil de"
            " 60 000."
        ),
        ("immigration_levels",),
    ),
    "planif_50000": (
        "Québec maintient sa cible",
        (
            "Le gouvernement Legault maintiendra sa cible de 50 000 immigrants "
            "permanents par année en 2026, selon le plan annuel d'immigration déposé "
            "jeudi à l'Assemblée nationale par le ministre."
        ),
        ("immigration_levels",),
    ),
    "seuils_opposition": (
        "Seuils d'immigration : le PQ veut 35 000",
        (
            "Le Parti québécois propose de ramener les seuils d'immigration "
            "permanente à 35 000 personnes par année, soit bien en deçà de la cible "
            "actuelle du gouvernement. Son chef soutient que la capacité d'accueil du"
            " Québec est dépassée, notamment en matière de logement et de "
            "francisation."
        ),
        ("immigration_levels",),
    ),
    "accord_canada_quebec": (
        "Québec veut rouvrir l'Accord Canada-Québec",
        (
            "Le premier ministre du Québec demande à Ottawa de rouvrir l'Accord "
            "Canada-Québec sur l'immigration pour obtenir les pleins pouvoirs sur le "
            "regroupement familial et les travailleurs temporaires. Le ministre "
            "fédéral de l'Immigration a fermé la porte, jeudi, à toute renégociation."
        ),
        ("jurisdiction",),
    ),
    "repartition_demandeurs": (
        "Demandeurs d'asile : Québec réclame une répartition",
        (
            "Québec exige qu'Ottawa répartisse plus équitablement les demandeurs "
            "d'asile entre les provinces, affirmant accueillir plus de 45 % des "
            "nouveaux demandeurs au pays. La ministre de l'Immigration demande aussi "
            "le remboursement d'un milliard de dollars pour les services offerts "
            "depuis 2021."
        ),
        ("asylum_refugees",),
    ),
    "asile_logement": (
        "Des demandeurs d'asile dans les refuges",
        (
            "Faute de logements abordables, des centaines de demandeurs d'asile "
            "dorment dans les refuges pour itinérants de Montréal, selon un rapport "
            "de la Mission Old Brewery. Les organismes demandent à Québec et à Ottawa"
            " d'ouvrir de nouvelles places d'hébergement temporaire."
        ),
        ("asylum_refugees",),
    ),
    "asile_couts": (
        "La facture des demandeurs d'asile grimpe",
        (
            "L'accueil des demandeurs d'asile a coûté 576 millions de dollars au "
            "Québec l'an dernier, en aide sociale, en soins de santé et en éducation,"
            " selon des documents obtenus par les médias. Le gouvernement caquiste "
            "réclame cette somme au fédéral."
        ),
        ("asylum_refugees", "funding_costs"),
    ),
    "ptet_permis_fermes": (
        "Permis de travail fermés : une « forme d'esclavage moderne »",
        (
            "Le rapporteur spécial de l'ONU juge que les permis de travail fermés, "
            "qui lient les travailleurs étrangers temporaires à un seul employeur, "
            "favorisent les abus. Au Québec, des travailleurs agricoles "
            "guatémaltèques racontent avoir été menacés de renvoi s'ils se "
            "plaignaient de leurs conditions."
        ),
        ("temporary_residents",),
    ),
    "ptet_gel_montreal": (
        "Gel des nouveaux travailleurs étrangers à Montréal",
        (
            "Québec gèle pour six mois le traitement des demandes d'évaluation de "
            "l'impact sur le marché du travail pour les postes à bas salaire dans la "
            "région de Montréal. Le Programme des travailleurs étrangers temporaires "
            "est devenu trop important, soutient le ministre de l'Emploi."
        ),
        ("temporary_residents",),
    ),
    "etudiants_plafond": (
        "Plafond d'étudiants étrangers : les cégeps en région inquiets",
        (
            "Les cégeps de la Gaspésie et du Saguenay craignent de perdre des "
            "programmes entiers après l'annonce par Ottawa d'un nouveau plafond de "
            "permis d'études pour 2025. Le nombre d'étudiants étrangers admis au "
            "Québec serait réduit de près de 20 %, selon la Fédération des cégeps."
        ),
        ("temporary_residents",),
    ),
    "etudiants_360000": (
        "Ottawa plafonne les permis d'études",
        (
            "Ottawa limitera à environ 360 000 le nombre de permis d'études accordés "
            "cette année, une baisse de 35 % par rapport à 2023, a annoncé le "
            "ministre fédéral de l'Immigration. Les établissements québécois "
            "réclament un traitement particulier pour les étudiants francophones."
        ),
        ("temporary_residents",),
    ),
    "querelle_ministres": (
        "Immigration : nouvelle passe d'armes entre Québec et Ottawa",
        (
            "Le ministre québécois de l'Immigration accuse son homologue fédéral "
            "d'empiéter sur les compétences du Québec en imposant de nouvelles règles"
            " sur les permis de travail. « Ottawa ne respecte pas l'entente », a-t-il"
            " lancé en point de presse, ravivant la querelle sur le partage des "
            "pouvoirs en immigration."
        ),
        ("jurisdiction",),
    ),
    "residents_temporaires_5pc": (
        "Ottawa veut ramener les résidents temporaires à 5 %",
        (
            "Le gouvernement fédéral veut ramener la part des résidents temporaires à"
            " 5 % de la population canadienne d'ici trois ans, contre 7,5 % "
            "aujourd'hui, a annoncé le ministre de l'Immigration. Au Québec, on "
            "compte plus de 560 000 résidents non permanents."
        ),
        ("temporary_residents",),
    ),
    "tva_titre": (
        "Immigration : Legault veut les pleins pouvoirs",
        (
            "François Legault réclame de nouveau les pleins pouvoirs en immigration, "
            "au lendemain de la publication de chiffres montrant une hausse record du"
            " nombre de résidents temporaires au Québec. Le premier ministre fera de "
            "ce dossier un enjeu de la prochaine campagne électorale fédérale."
        ),
        ("jurisdiction",),
    ),
    "soleil_regionalisation": (
        "Des immigrants attirés vers les régions",
        (
            "Près de 40 % des nouveaux arrivants admis dans la région de la "
            "Capitale-Nationale s'y sont établis grâce à un programme de "
            "régionalisation de l'immigration, selon le ministère. Des employeurs de "
            "Lévis et de Saint-Georges recrutent désormais directement en Tunisie et "
            "au Maroc."
        ),
        ("integration_french",),
    ),
    "actualite_analyse": (
        "Pourquoi le Québec manque de francisation",
        (
            "Le Québec veut sélectionner des immigrants qui parlent français, mais "
            "son réseau de francisation peine à suivre la demande. Analyse d'un "
            "système où les listes d'attente s'allongent pendant que Francisation "
            "Québec promet des places à tous les nouveaux arrivants."
        ),
        ("integration_french",),
    ),
    "mpnp_draw": (
        "Manitoba invites 450 in latest nominee draw",
        (
            "The Manitoba Provincial Nominee Program issued 450 letters of advice to "
            "apply in its latest expression of interest draw, the province said "
            "Thursday. Skilled workers already employed in Manitoba made up most of "
            "the invitations, with a minimum ranking score of 612."
        ),
        ("economic_immigration",),
    ),
    "ainp_cut": (
        "Alberta's nominee allocation cut in half",
        (
            "Alberta will be allowed to nominate only 4,875 immigrants this year "
            "under the Alberta Advantage Immigration Program after Ottawa cut "
            "provincial nominee allocations by half, the province's immigration "
            "minister said Wednesday. Employers in Calgary's tech sector warn the "
            "change will deepen labour shortages."
        ),
        ("economic_immigration",),
    ),
    "ns_nominee": (
        "N.S. nominee program to focus on health care",
        (
            "Nova Scotia will reserve most of its reduced provincial nominee spots "
            "for health-care and construction workers, the province announced. The "
            "Nova Scotia Nominee Program received 5,000 fewer allocations from Ottawa"
            " this year than it had requested, officials said."
        ),
        ("economic_immigration",),
    ),
    "bc_study_cap": (
        "B.C. colleges brace for study permit cap",
        (
            "Colleges across British Columbia are bracing for layoffs after the "
            "federal government announced a further 10 per cent cut to its cap on "
            "study permits. Langara College expects international enrolment to fall "
            "by about a third, its president said."
        ),
        ("temporary_residents",),
    ),
    "temp_residents_share": (
        "Temporary residents now 7.3% of Canada's population",
        (
            "Temporary residents made up 7.3 per cent of Canada's population on Jan. "
            "1, Statistics Canada said, as Ottawa struggles to meet its goal of "
            "bringing that share down to five per cent within three years. "
            "Non-permanent residents in Alberta rose by 40,000 over the past year."
        ),
        ("temporary_residents",),
    ),
    "ee_draw_crs": (
        "Express Entry draw invites 4,500 candidates",
        (
            "Immigration, Refugees and Citizenship Canada invited 4,500 candidates to"
            " apply for permanent residence in the latest Express Entry draw, with a "
            "minimum Comprehensive Ranking System score of 529. It was the third "
            "Canadian Experience Class draw this month."
        ),
        ("economic_immigration",),
    ),
    "ee_draw_french": (
        "French-speaking candidates get 7,000 invitations",
        (
            "A category-based Express Entry draw for French-language proficiency "
            "invited 7,000 candidates with CRS scores as low as 379 on Wednesday, as "
            "the federal government pushes to increase francophone immigration "
            "outside Quebec."
        ),
        ("economic_immigration",),
    ),
    "citizenship_ceremony_wpg": (
        "120 new Canadians sworn in at The Forks",
        (
            "One hundred and twenty people from 31 countries took the oath of "
            "citizenship at a special Canada Day ceremony at The Forks in Winnipeg. "
            "Many said they had waited years for the moment after arriving as "
            "refugees or international students."
        ),
        ("integration_french",),
    ),
    "levels_plan_per_year": (
        "Canada to admit 380,000 a year",
        (
            "Canada will admit 380,000 permanent residents a year by 2027 under the "
            "new immigration levels plan tabled in Ottawa on Thursday."
        ),
        ("immigration_levels",),
    ),
    "ee_invitations_year": (
        "Express Entry invitations hit record",
        (
            "IRCC issued 110,000 invitations to apply through Express Entry last "
            "year, a record, as the department cleared its backlog."
        ),
        ("economic_immigration",),
    ),
    "pgwp_changes": (
        "Post-graduation work permit rules tightened",
        (
            "International students at Alberta colleges will no longer qualify for "
            "post-graduation work permits unless their program is linked to an "
            "occupation in shortage, under federal changes that took effect Friday. "
            "Reporters spoke to students who fear losing their path to permanent "
            "residence."
        ),
        ("temporary_residents",),
    ),
    "tfw_low_wage": (
        "Low-wage temporary foreign workers capped at 10%",
        (
            "Employers in Winnipeg and Calgary can now fill no more than 10 per cent "
            "of their workforce with low-wage temporary foreign workers, under new "
            "federal rules. The changes, announced by the employment minister, also "
            "shorten permits from two years to one."
        ),
        ("temporary_residents",),
    ),
    "asylum_hotels_ns": (
        "Asylum claimants housed in Halifax hotels",
        (
            "Dozens of asylum claimants have been housed in Halifax hotels since the "
            "federal government began transferring them from Quebec and Ontario, the "
            "province confirmed. Nova Scotia agreed to accept its share under "
            "Ottawa's voluntary distribution plan."
        ),
        ("asylum_refugees",),
    ),
    "rural_pilot": (
        "Brandon joins rural immigration pilot",
        (
            "Brandon has been selected for the federal Rural Community Immigration "
            "Pilot, which lets local employers recommend foreign workers for "
            "permanent residence, Immigration Minister Marc Miller said during a "
            "visit to western Manitoba."
        ),
        ("economic_immigration",),
    ),
    "atlantic_program": (
        "Atlantic Immigration Program spaces slashed",
        (
            "The Atlantic Immigration Program will have about half as many spaces "
            "next year, the federal government told the four Atlantic provinces, a "
            "blow to employers in Nova Scotia who rely on it to hire skilled workers "
            "from abroad."
        ),
        ("economic_immigration",),
    ),
    "fig_pnp_allocation": (
        "Saskatchewan gets 3,625 nominee spaces",
        (
            "Ottawa has capped Saskatchewan's provincial nominee allocation at 3,625 "
            "for 2025, the province said, down from 7,250 last year."
        ),
        ("economic_immigration",),
    ),
    "fig_temp_share_target": (
        "Ottawa sets target for temporary residents",
        (
            "The federal government plans to reduce the number of temporary residents"
            " to five per cent of Canada's population, from 6.5 per cent, the "
            "immigration minister said."
        ),
        ("temporary_residents",),
    ),
    "fig_quebec_50000_en": (
        "Quebec holds immigration at 50,000",
        (
            "Quebec will keep its immigration target at 50,000 permanent immigrants a"
            " year through 2027, Premier François Legault's government said Thursday "
            "in its multi-year plan."
        ),
        ("immigration_levels",),
    ),
    "fig_ee_not_target": (
        "Express Entry to invite fewer candidates",
        (
            "Canada will invite about 90,000 Express Entry candidates a year under "
            "the new plan, IRCC said, with a CRS cut-off expected to rise above 540."
        ),
        ("economic_immigration",),
    ),
    "fig_fr_5pc": (
        "Résidents temporaires : Québec vise 5 %",
        (
            "Québec veut abaisser la proportion de résidents temporaires à 5 % de la "
            "population d'ici 2029, a indiqué le ministre de l'Immigration en "
            "commission parlementaire."
        ),
        ("temporary_residents",),
    ),
    "fig_fr_plafond_etudes": (
        "Permis d'études : un plafond de 360 000",
        (
            "Le plafond de 360 000 permis d'études fixé par Ottawa pour 2024 fera "
            "chuter de moitié les nouvelles inscriptions d'étudiants étrangers dans "
            "certaines provinces, prévient Universités Canada."
        ),
        ("temporary_residents",),
    ),
    "fig_fr_cible_ottawa": (
        "Ottawa réduit ses cibles",
        (
            "Le gouvernement fédéral ramènera sa cible d'immigration permanente à 395"
            " 000 personnes par année, a annoncé le ministre de l'Immigration à "
            "Ottawa."
        ),
        ("immigration_levels",),
    ),
    "fig_fr_patronat": (
        "Le patronat veut plus d'immigrants",
        (
            "Le Conseil du patronat du Québec réclame un seuil de 70 000 immigrants "
            "permanents par année, estimant que la pénurie de main-d'œuvre menace la "
            "croissance des régions."
        ),
        ("immigration_levels",),
    ),
    "fig_fr_passe_2023": (
        "Un record d'admissions",
        (
            "Le Québec a accueilli 52 800 immigrants permanents l'an dernier, un "
            "sommet depuis 2019, selon les données du ministère de l'Immigration."
        ),
        ("immigration_levels",),
    ),
    "fig_fr_demandeurs_45pc": (
        "Québec accueille près de la moitié des demandeurs d'asile",
        (
            "Le Québec a reçu 65 000 demandeurs d'asile en 2023, soit 45 % de "
            "l'ensemble des demandes au Canada, selon Immigration, Réfugiés et "
            "Citoyenneté Canada."
        ),
        ("asylum_refugees",),
    ),
    "fig_fr_qs": (
        "Québec solidaire propose 60 000",
        (
            "Québec solidaire accueillerait jusqu'à 60 000 immigrants par année s'il "
            "prenait le pouvoir, a précisé sa porte-parole en matière d'immigration."
        ),
        ("immigration_levels",),
    ),
    "fig_fr_ee_tirage": (
        "Entrée express : 6 000 invitations aux francophones",
        (
            "Ottawa a lancé 6 000 invitations à présenter une demande de résidence "
            "permanente dans le cadre d'un tirage d'Entrée express réservé aux "
            "candidats parlant français, avec un score minimal de 365."
        ),
        ("economic_immigration",),
    ),
    "fr_csq": (
        "Certificat de sélection : les délais explosent",
        (
            "Les candidats à l'immigration économique attendent désormais plus de 18 "
            "mois pour obtenir leur certificat de sélection du Québec, selon les "
            "données du ministère. Des avocats en immigration dénoncent une lenteur "
            "qui pousse des travailleurs qualifiés vers l'Ontario."
        ),
        ("economic_immigration",),
    ),
    "fr_ptet_agricoles": (
        "Les producteurs agricoles inquiets",
        (
            "Les producteurs maraîchers de la Montérégie craignent de manquer de bras"
            " cet été, alors que les délais de traitement des permis de travail des "
            "travailleurs étrangers temporaires s'allongent. L'UPA demande à Ottawa "
            "d'accélérer le traitement des dossiers."
        ),
        ("temporary_residents",),
    ),
    "fr_devoir_ministre": (
        "Roberge accuse Ottawa d'inaction",
        (
            "Le ministre québécois de l'Immigration accuse le gouvernement fédéral de"
            " laisser le Québec assumer seul l'accueil des demandeurs d'asile. Dans "
            "une lettre à son homologue fédéral, il réclame un « mécanisme "
            "contraignant » de répartition entre les provinces."
        ),
        ("asylum_refugees",),
    ),
    "fr_etudiants_francais": (
        "Étudiants étrangers : exemption pour les francophones ?",
        (
            "Les universités francophones demandent à Québec d'exempter les étudiants"
            " étrangers inscrits en français de la baisse des demandes de permis "
            "d'études, afin de ne pas nuire au rayonnement du français."
        ),
        ("temporary_residents",),
    ),
    "fr_citoyennete": (
        "Cérémonie de citoyenneté à Trois-Rivières",
        (
            "Une cinquantaine de nouveaux citoyens canadiens originaires de 20 pays "
            "ont prêté serment lors d'une cérémonie de citoyenneté à Trois-Rivières, "
            "mardi. Plusieurs sont arrivés comme réfugiés ou travailleurs "
            "temporaires."
        ),
        ("integration_french",),
    ),
    "fr_regionalisation_2": (
        "L'immigration en région, une solution à la pénurie ?",
        (
            "La régionalisation de l'immigration reste un défi au Québec : plus de 70"
            " % des nouveaux arrivants s'installent dans la région de Montréal, selon"
            " un rapport du ministère publié jeudi."
        ),
        ("integration_french",),
    ),
    "jdm_exclusif": (
        "EXCLUSIF | Des demandeurs d'asile logés à l'hôtel aux frais de l'État",
        (
            "Des centaines de demandeurs d'asile sont hébergés depuis des mois dans "
            "des hôtels de Laval et de Longueuil aux frais des contribuables, selon "
            "des documents obtenus. La facture dépasse déjà 40 millions de dollars, "
            "selon des documents du ministère de l'Immigration."
        ),
        ("asylum_refugees",),
    ),
    "tva_question": (
        "Immigration : Québec a-t-il atteint sa capacité d'accueil?",
        (
            "Le gouvernement Legault répète que la capacité d'accueil du Québec est "
            "dépassée. Logement, écoles, francisation, garderies : notre équipe a "
            "vérifié ce qu'il en est vraiment dans cinq régions, au moment où la "
            "province reçoit un nombre record de résidents non permanents."
        ),
        ("temporary_residents",),
    ),
    "devoir_accord": (
        "L'accord Canada-Québec a 35 ans",
        (
            "Signé en 1991, l'Accord Canada-Québec relatif à l'immigration donne à la"
            " province la sélection de ses immigrants économiques et la "
            "responsabilité de leur intégration, en échange d'une compensation "
            "financière fédérale. Des experts estiment qu'il est temps de le "
            "moderniser."
        ),
        ("jurisdiction",),
    ),
    "presse_compensation": (
        "Québec touchera 750 millions pour l'intégration",
        (
            "Ottawa versera 750 millions de dollars à Québec cette année en vertu de "
            "l'Accord Canada-Québec, une compensation destinée aux services d'accueil"
            " et de francisation des immigrants. L'opposition reproche au "
            "gouvernement de ne pas dépenser toute la somme en francisation."
        ),
        ("jurisdiction", "funding_costs"),
    ),
    "soleil_etudiants_capitale": (
        "Moins d'étudiants étrangers à l'Université Laval",
        (
            "L'Université Laval accueillera 1 200 étudiants étrangers de moins cet "
            "automne en raison du plafond fédéral sur les permis d'études et des "
            "nouvelles règles québécoises, a confirmé le rectorat. Les programmes de "
            "deuxième cycle en génie sont les plus touchés."
        ),
        ("temporary_residents",),
    ),
    "actualite_demandeurs_repartition": (
        "Demandeurs d'asile : le partage du fardeau",
        (
            "Ottawa propose de transférer volontairement des demandeurs d'asile du "
            "Québec vers d'autres provinces, mais seules quelques-unes ont accepté. "
            "Le Nouveau-Brunswick et la Nouvelle-Écosse ont ouvert la porte, alors "
            "que l'Alberta refuse catégoriquement."
        ),
        ("asylum_refugees",),
    ),
    "fr_roxham_fin": (
        "Un an après la fermeture de Roxham",
        (
            "Un an après la fermeture du chemin Roxham, le nombre de demandeurs "
            "d'asile arrivant par voie terrestre a chuté, mais les arrivées par avion"
            " à Montréal-Trudeau ont doublé, selon l'Agence des services frontaliers "
            "du Canada."
        ),
        ("asylum_refugees",),
    ),
    "fr_visas_mexicains": (
        "Ottawa réimpose les visas aux Mexicains",
        (
            "Le Canada réimpose l'obligation de visa aux ressortissants mexicains, en"
            " raison de la hausse des demandes d'asile présentées à l'aéroport de "
            "Montréal, a annoncé le ministre fédéral de l'Immigration. Québec "
            "réclamait cette mesure depuis des mois."
        ),
        ("visas",),
    ),
    "fr_moratoire_tet": (
        "Moratoire sur les travailleurs temporaires à bas salaire",
        (
            "Québec décrète un moratoire sur les nouvelles demandes de travailleurs "
            "étrangers temporaires à bas salaire dans la région de Montréal, une "
            "mesure qui touchera surtout la restauration et l'hôtellerie, selon le "
            "ministre du Travail."
        ),
        ("temporary_residents",),
    ),
    "fr_fig_45000_2026": (
        "Québec réduira l'immigration permanente",
        (
            "Le gouvernement du Québec réduira son seuil d'immigration permanente à "
            "45 000 personnes par année à compter de 2026, selon le plan déposé par "
            "le ministre."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_planif": (
        "Planification 2026-2029",
        (
            "Selon la planification pluriannuelle, le Québec admettra entre 45 000 et"
            " 50 000 immigrants par année d'ici 2029."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_temp_600000": (
        "Plus de 600 000 résidents temporaires",
        (
            "Le Québec comptait 616 000 résidents non permanents au 1er juillet, soit"
            " plus de 7 % de sa population, selon l'Institut de la statistique du "
            "Québec."
        ),
        ("temporary_residents",),
    ),
    "en_fig_levels_2027": (
        "Federal plan trims immigration",
        (
            "Ottawa will admit 365,000 permanent residents a year by 2027, down from "
            "485,000 this year, according to the levels plan released Thursday."
        ),
        ("immigration_levels",),
    ),
    "en_wfp_pnp": (
        "Manitoba wants more nominees",
        (
            "Manitoba's labour and immigration minister is asking Ottawa to double "
            "the province's nominee allocation to 12,000, arguing employers in rural "
            "Manitoba cannot fill jobs without newcomers. The federal government cut "
            "the allocation this year."
        ),
        ("economic_immigration",),
    ),
    "en_herald_students": (
        "Calgary students caught by permit cap",
        (
            "International students at Bow Valley College say they were blindsided "
            "when their study permit applications were refused under Ottawa's new "
            "cap, leaving seats empty in a program designed to fill Alberta's "
            "health-care shortage."
        ),
        ("temporary_residents",),
    ),
    "en_sun_ee_healthcare": (
        "Health-care workers targeted in latest draw",
        (
            "IRCC invited 3,500 health-care workers to apply for permanent residence "
            "in a category-based Express Entry draw on Tuesday, with a cut-off score "
            "of 422. B.C.'s health minister welcomed the draw."
        ),
        ("economic_immigration",),
    ),
    "en_chronicle_ceremony": (
        "Halifax citizenship ceremony welcomes 75",
        (
            "Seventy-five people from 24 countries became Canadian citizens at Pier "
            "21 in Halifax on Friday, in the first in-person citizenship ceremony "
            "held at the museum in two years."
        ),
        ("integration_french",),
    ),
    "en_temp_share_ab": (
        "Alberta's population growth slows",
        (
            "Alberta's population growth slowed in the third quarter as the number of"
            " non-permanent residents fell for the first time in years, Statistics "
            "Canada said, a result of federal caps on international students and "
            "temporary foreign workers."
        ),
        ("temporary_residents",),
    ),
    "fr_fig_cible_2025_jdm": (
        "Immigration : Québec abaisse sa cible à 45 000",
        (
            "Le gouvernement caquiste abaissera sa cible à 45 000 immigrants "
            "permanents par année dès 2026, a confirmé le ministre de l'Immigration, "
            "jeudi, en déposant son plan annuel."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_pq_25000": (
        "Le PQ couperait l'immigration de moitié",
        (
            "Un gouvernement péquiste réduirait l'immigration permanente à 25 000 "
            "personnes par année pendant le premier mandat, a promis le chef du Parti"
            " québécois."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_etudiants_2024": (
        "Québec réduit de 20 % les demandes d'étudiants étrangers",
        (
            "Québec limitera à 98 000 le nombre de demandes de permis d'études "
            "d'étudiants étrangers qu'il traitera cette année, une baisse de 20 %, a "
            "annoncé le ministre de l'Immigration."
        ),
        ("temporary_residents",),
    ),
    "fr_fig_ee_score": (
        "Entrée express : le score minimal grimpe à 549",
        (
            "Le score minimal exigé lors du dernier tirage d'Entrée express a grimpé "
            "à 549 points, et seulement 1 800 candidats ont été invités à présenter "
            "une demande de résidence permanente, selon IRCC."
        ),
        ("economic_immigration",),
    ),
    "fr_fig_asile_2024": (
        "Près de 180 000 demandeurs d'asile au Québec",
        (
            "Le Québec héberge près de 180 000 demandeurs d'asile dont la demande est"
            " en attente, selon les plus récents chiffres de la Commission de "
            "l'immigration et du statut de réfugié."
        ),
        ("asylum_refugees",),
    ),
    "fr_fig_cible_federale_2027": (
        "Ottawa vise 365 000 résidents permanents",
        (
            "Le gouvernement Carney prévoit d'admettre 380 000 résidents permanents "
            "par année en 2026, puis 365 000 en 2027, selon le plan des niveaux "
            "d'immigration déposé mardi."
        ),
        ("immigration_levels",),
    ),
    "en_fig_quebec_pledge_ndp": (
        "NDP would raise immigration",
        (
            "The NDP would raise Canada's permanent resident target to 500,000 a "
            "year, the party's leader pledged Wednesday."
        ),
        ("immigration_levels",),
    ),
    "en_fig_5pc": (
        "Temporary residents to fall to 5%",
        (
            "Ottawa aims to cut temporary residents to five per cent of the "
            "population by 2027, from 7.4 per cent now, the immigration minister "
            "said."
        ),
        ("temporary_residents",),
    ),
    "en_fig_pnp_55000": (
        "Provinces get 55,000 nominee spots",
        (
            "The federal levels plan sets aside 55,000 spaces a year for provincial "
            "nominee programs, half of what provinces had been promised, premiers "
            "said after meeting in Halifax."
        ),
        ("economic_immigration", "immigration_levels"),
    ),
    "en_fig_study_permits_437000": (
        "Study permit cap set at 437,000",
        (
            "Ottawa will cap study permits at 437,000 next year, a 10 per cent "
            "reduction, the immigration minister said, with a share reserved for "
            "graduate students."
        ),
        ("temporary_residents",),
    ),
    "en_fig_ee_draw_2": (
        "Latest draw targets trades",
        (
            "A trades-only Express Entry draw on Monday invited 1,000 candidates with"
            " a cut-off score of 433, the lowest for any draw this year."
        ),
        ("economic_immigration",),
    ),
    "en_fig_citizenship": (
        "Record number of new citizens",
        (
            "Canada welcomed a record 375,000 new citizens last year, IRCC said, "
            "after clearing a pandemic backlog of citizenship applications."
        ),
        ("integration_french",),
    ),
    "fr_demandeurs_transfert": (
        "Des demandeurs d'asile transférés en Ontario",
        (
            "Une soixantaine de demandeurs d'asile hébergés à Montréal ont été "
            "transférés à Niagara Falls et à Cornwall au cours de la fin de semaine, "
            "dans le cadre d'une entente entre Ottawa et l'Ontario visant à soulager "
            "le Québec."
        ),
        ("asylum_refugees",),
    ),
    "fr_francisation_en_entreprise": (
        "La francisation en milieu de travail gagne du terrain",
        (
            "De plus en plus d'entreprises de la Beauce offrent des cours de "
            "francisation à leurs travailleurs étrangers sur les heures de travail, "
            "avec le soutien de Francisation Québec."
        ),
        ("integration_french",),
    ),
    "fr_loi_96_immigrants": (
        "Six mois pour apprendre le français",
        (
            "Depuis l'entrée en vigueur de la loi 96, les immigrants n'ont plus que "
            "six mois pour recevoir des services de l'État dans une autre langue que "
            "le français, une règle que dénoncent plusieurs organismes d'accueil."
        ),
        ("integration_french",),
    ),
    "fr_pouvoirs_regroupement": (
        "Regroupement familial : Québec veut le contrôle",
        (
            "Québec réclame le plein contrôle du regroupement familial, une "
            "compétence partagée avec Ottawa, afin de limiter le nombre d'immigrants "
            "qui ne parlent pas français."
        ),
        ("jurisdiction", "family_reunification"),
    ),
    "fr_permis_ferme": (
        "Fin des permis fermés ?",
        (
            "Ottawa étudie la possibilité d'abolir les permis de travail liés à un "
            "seul employeur pour les travailleurs étrangers temporaires, une mesure "
            "réclamée par les groupes de défense des travailleurs migrants."
        ),
        ("temporary_residents",),
    ),
    "en_wfp_asylum": (
        "Winnipeg shelters strained by asylum claimants",
        (
            "Winnipeg's homeless shelters are turning people away as a growing number"
            " of asylum claimants arrive in the city, the mayor said, calling on "
            "Ottawa to fund emergency housing."
        ),
        ("asylum_refugees",),
    ),
    "en_vancouver_sun_tr": (
        "Temporary residents fuel B.C. rental crunch, report says",
        (
            "A surge of temporary residents, including international students and "
            "foreign workers, accounted for most of B.C.'s population growth last "
            "year and added pressure on rental housing, according to a report by the "
            "province's housing ministry."
        ),
        ("temporary_residents",),
    ),
    "fr_peq_diplomes": (
        "PEQ : les diplômés étrangers dans l'incertitude",
        (
            "Les diplômés étrangers des universités québécoises qui espéraient "
            "obtenir leur certificat de sélection par le volet diplômés du PEQ "
            "devront patienter : le ministère n'accepte plus de nouvelles demandes "
            "depuis novembre."
        ),
        ("economic_immigration",),
    ),
    "fr_pstq_invitation": (
        "Arrima : une ronde d'invitations ciblant les soins infirmiers",
        (
            "Le ministère de l'Immigration, de la Francisation et de l'Intégration a "
            "invité 1 050 personnes à déposer une demande dans le Programme de "
            "sélection des travailleurs qualifiés, la plupart dans les soins "
            "infirmiers et l'enseignement."
        ),
        ("economic_immigration",),
    ),
    "fr_francisation_attente": (
        "Francisation Québec : 20 000 personnes en attente",
        (
            "Plus de 20 000 personnes immigrantes attendent une place dans un cours "
            "de francisation, selon des données obtenues par l'opposition officielle,"
            " qui accuse le gouvernement d'avoir sous-estimé la demande."
        ),
        ("integration_french",),
    ),
    "fr_seuils_cibles_debat": (
        "Seuils d'immigration : les partis s'affrontent",
        (
            "À un an des élections, les partis s'affrontent sur les seuils "
            "d'immigration. Le gouvernement maintient sa cible, l'opposition libérale"
            " propose de la hausser et le Parti québécois veut la réduire de moitié, "
            "au nom de la capacité d'accueil."
        ),
        ("immigration_levels",),
    ),
    "fr_accord_ottawa_quebec_tension": (
        "Immigration temporaire : Québec et Ottawa à couteaux tirés",
        (
            "Québec et Ottawa n'arrivent pas à s'entendre sur le contrôle de "
            "l'immigration temporaire. Le ministre québécois exige de pouvoir "
            "plafonner lui-même le nombre de permis de travail délivrés sur son "
            "territoire, ce que le fédéral refuse."
        ),
        ("jurisdiction", "temporary_residents"),
    ),
    "fr_asile_sante_couts": (
        "Soins aux demandeurs d'asile : Québec paie la note",
        (
            "Le réseau de la santé a dépensé 120 millions de dollars pour soigner des"
            " demandeurs d'asile l'an dernier, une facture que Québec veut se faire "
            "rembourser par Ottawa."
        ),
        ("asylum_refugees", "funding_costs"),
    ),
    "fr_etudiants_cegep": (
        "Cégeps : la baisse des étudiants étrangers fait mal",
        (
            "La baisse du nombre d'étudiants étrangers admis au Québec prive les "
            "cégeps de la Côte-Nord de centaines d'inscriptions, ce qui menace "
            "l'offre de programmes techniques en région."
        ),
        ("temporary_residents",),
    ),
    "fr_logement_tr": (
        "Crise du logement : les résidents temporaires pointés du doigt",
        (
            "Le gouvernement caquiste attribue une partie de la crise du logement à "
            "la hausse rapide du nombre de résidents temporaires, une analyse que "
            "contestent plusieurs économistes."
        ),
        ("temporary_residents",),
    ),
    "fr_fig_seuil_2026": (
        "Le seuil fixé à 45 000 pour 2026",
        (
            "Québec fixe son seuil d'immigration permanente à 45 000 personnes par "
            "année pour 2026, a annoncé mardi le ministre de l'Immigration."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_patronat_2": (
        "Les employeurs veulent 70 000 immigrants",
        (
            "Les Manufacturiers et Exportateurs du Québec proposent que le Québec "
            "accueille 70 000 immigrants permanents par année pour répondre à la "
            "pénurie de main-d'œuvre."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_passe_2": (
        "Un nombre d'admissions en baisse",
        (
            "Le Québec a admis 49 500 immigrants permanents en 2024, contre 52 800 "
            "l'année précédente, selon les données du ministère."
        ),
        ("immigration_levels",),
    ),
    "en_pnp_bc": (
        "B.C. PNP draws paused",
        (
            "The B.C. Provincial Nominee Program has paused most of its skills "
            "immigration draws after Ottawa cut the province's allocation by half, "
            "leaving thousands of workers in limbo."
        ),
        ("economic_immigration",),
    ),
    "en_sinp": (
        "Saskatchewan nominee program prioritizes health workers",
        (
            "The Saskatchewan Immigrant Nominee Program will prioritize health-care, "
            "agriculture and trades workers this year, the province's immigration "
            "minister said, after its allocation was reduced."
        ),
        ("economic_immigration",),
    ),
    "en_study_cap_mb": (
        "Manitoba colleges lose international students",
        (
            "Manitoba's colleges expect 30 per cent fewer international students this"
            " fall because of Ottawa's cap on study permits, the province's advanced "
            "education minister told reporters."
        ),
        ("temporary_residents",),
    ),
    "en_ceremony_calgary": (
        "Calgary citizenship ceremony marks Canada Day",
        (
            "Fifty newcomers from 18 countries took the oath of citizenship at Fort "
            "Calgary on Canada Day, in one of dozens of ceremonies held across the "
            "country."
        ),
        ("integration_french",),
    ),
    "en_ee_draw_cec": (
        "CEC draw cut-off drops",
        (
            "The minimum score for Canadian Experience Class candidates fell to 518 "
            "in Wednesday's Express Entry draw, in which IRCC issued 3,000 "
            "invitations to apply."
        ),
        ("economic_immigration",),
    ),
    "en_tr_share_halifax": (
        "Temporary residents make up growing share of N.S. population",
        (
            "Temporary residents now account for almost five per cent of Nova "
            "Scotia's population, up from two per cent five years ago, according to "
            "Statistics Canada data analysed by the province."
        ),
        ("temporary_residents",),
    ),
    "en_fig_ottawa_target": (
        "Ottawa to lower its target",
        (
            "The federal government will lower its target to 380,000 permanent "
            "residents a year for 2026, the immigration minister said."
        ),
        ("immigration_levels",),
    ),
    "fr_ministre_federal_refuse": (
        "Pleins pouvoirs : Ottawa dit non",
        (
            "Le ministre fédéral de l'Immigration rejette la demande de Québec "
            "d'obtenir les pleins pouvoirs sur l'immigration temporaire, affirmant "
            "que l'Accord Canada-Québec confère déjà à la province des "
            "responsabilités importantes."
        ),
        ("jurisdiction",),
    ),
    "fr_demandeurs_repartition_ontario": (
        "L'Ontario refuse d'accueillir plus de demandeurs d'asile",
        (
            "Le premier ministre ontarien refuse d'accueillir davantage de demandeurs"
            " d'asile transférés du Québec tant qu'Ottawa ne couvrira pas l'ensemble "
            "des coûts d'hébergement."
        ),
        ("asylum_refugees",),
    ),
    "fr_ptet_renouvellement": (
        "Travailleurs étrangers : des renouvellements refusés",
        (
            "Des centaines de travailleurs étrangers temporaires de la région de "
            "Québec voient leur permis de travail expirer sans pouvoir le renouveler,"
            " depuis le gel des études d'impact sur le marché du travail à bas "
            "salaire."
        ),
        ("temporary_residents",),
    ),
    "fr_etudiants_universites_anglo": (
        "McGill et Concordia perdent des étudiants étrangers",
        (
            "Les universités anglophones de Montréal enregistrent une baisse marquée "
            "des inscriptions d'étudiants étrangers, conséquence combinée du plafond "
            "fédéral de permis d'études et de la hausse des droits de scolarité "
            "imposée par Québec."
        ),
        ("temporary_residents",),
    ),
    "fr_francisation_enfants": (
        "Classes d'accueil débordées",
        (
            "Les classes d'accueil des écoles primaires de Montréal débordent avec "
            "l'arrivée de centaines d'enfants de familles demandeuses d'asile, et les"
            " centres de services scolaires peinent à recruter des enseignants de "
            "francisation."
        ),
        ("integration_french",),
    ),
    "fr_peq_volet_travailleurs": (
        "Le volet travailleurs du PEQ suspendu à son tour",
        (
            "Après le volet diplômés, Québec suspend aussi le volet travailleurs "
            "étrangers temporaires du Programme de l'expérience québécoise, une "
            "décision qui touche des milliers de personnes déjà établies dans la "
            "province."
        ),
        ("economic_immigration",),
    ),
    "fr_fig_cible_2": (
        "Immigration permanente : la cible reste à 50 000",
        (
            "Le gouvernement du Québec garde le cap : sa cible demeure de 50 000 "
            "immigrants permanents par année, a réitéré le premier ministre en point "
            "de presse."
        ),
        ("immigration_levels",),
    ),
    "fr_fig_5pc_quebec": (
        "Une cible pour les résidents temporaires",
        (
            "Ottawa vise à ramener les résidents temporaires à 5 % de la population "
            "canadienne d'ici 2027."
        ),
        ("temporary_residents",),
    ),
    "en_fig_pnp_manitoba": (
        "Manitoba nominee allocation restored",
        (
            "Ottawa will restore Manitoba's provincial nominee allocation to 9,500 "
            "next year, the province's labour and immigration minister said Monday."
        ),
        ("economic_immigration",),
    ),
    "en_fig_ee": (
        "Express Entry draw invites 2,000 healthcare workers",
        (
            "IRCC invited 2,000 health-care workers in a category-based Express Entry"
            " draw Thursday, with a minimum score of 475."
        ),
        ("economic_immigration",),
    ),
    "en_winnipeg_asylum": (
        "Winnipeg asks Ottawa for asylum housing money",
        (
            "Winnipeg city council voted to ask the federal government for $20 "
            "million to house asylum claimants, as the number of claimants arriving "
            "in Manitoba has tripled in a year."
        ),
        ("asylum_refugees",),
    ),
    "en_alberta_study": (
        "Alberta universities weigh cuts",
        (
            "Alberta's universities are weighing program cuts after federal limits on"
            " study permits cut their international enrolment by a quarter, the "
            "province's post-secondary minister said."
        ),
        ("temporary_residents",),
    ),
    "en_bc_tfw": (
        "B.C. farms rely on temporary foreign workers",
        (
            "More than 10,000 temporary foreign workers are expected on B.C. farms "
            "this season, as growers warn that federal changes to the program could "
            "leave fruit unpicked in the Okanagan."
        ),
        ("temporary_residents",),
    ),
    "en_ns_ceremony": (
        "Dartmouth ceremony welcomes new citizens",
        (
            "Thirty-two people from 15 countries became Canadian citizens in a "
            "ceremony in Dartmouth on Tuesday, a judge presiding over the oath of "
            "citizenship said."
        ),
        ("integration_french",),
    ),
}
NOT_RELEVANT: dict[str, tuple[str, str]] = {
    "asile_psychiatrique": (
        "L'ancien asile de Saint-Jean-de-Dieu transformé",
        (
            "L'ancien asile psychiatrique de Saint-Jean-de-Dieu, dans l'est de "
            "Montréal, accueillera des logements sociaux et un centre communautaire, "
            "a annoncé la Ville. Le bâtiment patrimonial, construit à la fin du XIXe "
            "siècle, était vacant depuis des années."
        ),
    ),
    "droit_asile_europe": (
        "L'Italie durcit le droit d'asile",
        (
            "Le gouvernement italien a adopté un décret qui restreint le droit "
            "d'asile et accélère les expulsions vers l'Albanie, malgré les critiques "
            "des ONG. Rome affirme que plus de 60 000 migrants ont débarqué sur ses "
            "côtes depuis janvier."
        ),
    ),
    "seuil_pauvrete": (
        "Un Québécois sur dix sous le seuil de pauvreté",
        (
            "Près d'un Québécois sur dix vit sous le seuil de faible revenu, selon "
            "l'Institut de la statistique du Québec. La hausse du coût du logement et"
            " de l'épicerie frappe particulièrement les familles monoparentales de "
            "Montréal et de Québec."
        ),
    ),
    "quota_peche": (
        "Crabe des neiges : le quota réduit de 20 %",
        (
            "Pêches et Océans Canada réduit de 20 % le quota de crabe des neiges dans"
            " le sud du golfe du Saint-Laurent pour la saison 2026. Les pêcheurs de "
            "la Gaspésie et des Îles-de-la-Madeleine craignent une baisse importante "
            "de leurs revenus."
        ),
    ),
    "naturalises_hockey": (
        "Les joueurs naturalisés font la différence",
        (
            "L'équipe de France de hockey compte sur trois joueurs naturalisés nés au"
            " Canada pour le tournoi olympique. L'ancien attaquant des Remparts de "
            "Québec, naturalisé français l'an dernier, sera au centre du premier "
            "trio."
        ),
    ),
    "genealogie": (
        "Retrouver ses ancêtres venus de France",
        (
            "La Société de généalogie de Québec organise samedi un atelier pour aider"
            " les familles à retracer leurs ancêtres arrivés en Nouvelle-France au "
            "XVIIe siècle. L'immigration des Filles du Roy y sera à l'honneur."
        ),
    ),
    "refugie_climatique": (
        "Au Bangladesh, des réfugiés climatiques par millions",
        (
            "Chassés par la montée des eaux, des millions de Bangladais sont devenus "
            "des réfugiés climatiques qui s'entassent dans les bidonvilles de Dacca. "
            "Notre envoyée spéciale a suivi une famille forcée de quitter son village"
            " pour la troisième fois."
        ),
    ),
    "visa_carte": (
        "Visa Desjardins : de nouveaux frais",
        (
            "Desjardins imposera de nouveaux frais annuels à certains détenteurs de "
            "cartes Visa à partir du 1er mars. L'institution affirme que les "
            "avantages liés aux points de récompense seront bonifiés."
        ),
    ),
    "cible_inflation": (
        "La Banque du Canada atteint sa cible",
        (
            "L'inflation est revenue à 2 %, la cible de la Banque du Canada, pour la "
            "première fois en trois ans, selon Statistique Canada. Les économistes "
            "s'attendent à une nouvelle baisse du taux directeur en décembre."
        ),
    ),
    "naturalized_soccer": (
        "Canada's rivals lean on naturalized players",
        (
            "Several of Canada's opponents at the Gold Cup rely heavily on "
            "naturalized players, including three Brazilian-born forwards who "
            "switched allegiance after five years in their adopted country, coach "
            "Jesse Marsch said."
        ),
    ),
    "genealogy": (
        "Family historian traces Icelandic roots",
        (
            "A Gimli woman has spent 20 years tracing her family's immigration from "
            "Iceland in 1875, when hundreds of settlers arrived on the shores of Lake"
            " Winnipeg. Her research is now the subject of an exhibit at the New "
            "Iceland Heritage Museum."
        ),
    ),
    "quota_fishery": (
        "Halibut quota raised for Scotian Shelf",
        (
            "Fisheries and Oceans Canada raised the total allowable catch of Atlantic"
            " halibut on the Scotian Shelf by 15 per cent, a quota increase fishermen"
            " in southwest Nova Scotia had lobbied for."
        ),
    ),
    "visa_card": (
        "Visa outage hits Vancouver merchants",
        (
            "Merchants across Vancouver were unable to process Visa card payments for"
            " several hours Friday after an outage at the payment network, the "
            "company said."
        ),
    ),
    "us_border": (
        "Texas expands border wall",
        (
            "Texas Gov. Greg Abbott announced another 50 kilometres of border wall "
            "along the Rio Grande as the state continues its standoff with the "
            "federal government over immigration enforcement."
        ),
    ),
    "draw_lottery": (
        "Lotto Max draw produces Calgary winner",
        (
            "A Calgary couple won $70 million in Friday's Lotto Max draw, the Western"
            " Canada Lottery Corporation said, the largest prize ever claimed in "
            "Alberta."
        ),
    ),
    "refugee_hockey": (
        "Jets' waiver pickup makes his mark",
        (
            "A refugee from the Flames' bench, the waiver pickup scored twice as the "
            "Jets beat Calgary 4-2 on Saturday."
        ),
    ),
    "poverty_line": (
        "Food bank use hits record in Halifax",
        (
            "Food bank use in Halifax reached a record in March, with nearly one in "
            "four clients working full-time but still below the poverty line, Feed "
            "Nova Scotia said."
        ),
    ),
    "asile_animaux": (
        "Un nouvel asile pour les chevaux retraités",
        (
            "Un refuge de Saint-Hyacinthe offre un asile à une vingtaine de chevaux "
            "de course retraités, grâce aux dons de la population. L'organisme "
            "cherche des bénévoles pour l'hiver."
        ),
    ),
    "france_asile": (
        "Paris adopte sa loi sur l'immigration",
        (
            "L'Assemblée nationale française a adopté la loi immigration du "
            "gouvernement, qui durcit l'accès au droit d'asile et au regroupement "
            "familial. Le texte divise la majorité présidentielle."
        ),
    ),
    "seuil_bruit": (
        "Bruit : le seuil dépassé près de l'aéroport",
        (
            "Le seuil de bruit fixé par la Ville a été dépassé plus de 300 fois l'été"
            " dernier près de l'aéroport Montréal-Trudeau, selon un regroupement de "
            "citoyens de Dorval."
        ),
    ),
    "naturalise_foot": (
        "Le Maroc mise sur ses binationaux",
        (
            "La sélection marocaine compte sur une douzaine de joueurs nés en Europe "
            "pour la Coupe d'Afrique. Le sélectionneur a convaincu deux attaquants "
            "naturalisés de rejoindre l'équipe."
        ),
    ),
    "histoire_irlandais": (
        "La Grosse-Île, mémoire de l'immigration irlandaise",
        (
            "Parcs Canada rouvre la Grosse-Île, où des milliers d'immigrants "
            "irlandais fuyant la Grande Famine ont été mis en quarantaine en 1847. "
            "Une nouvelle exposition raconte leur traversée."
        ),
    ),
    "cible_ventes": (
        "Hydro-Québec atteint sa cible",
        (
            "Hydro-Québec a atteint sa cible de 50 000 bornes de recharge installées "
            "au Québec, un an plus tôt que prévu, a annoncé la société d'État."
        ),
    ),
    "quota_laitier": (
        "Les quotas laitiers protégés",
        (
            "Ottawa s'engage à protéger les quotas laitiers dans les négociations "
            "commerciales avec les États-Unis, ont assuré les ministres fédéraux "
            "devant les producteurs du Québec."
        ),
    ),
    "migration_oiseaux": (
        "La migration des oies blanches commence",
        (
            "Des dizaines de milliers d'oies blanches font escale au cap Tourmente, à"
            " l'est de Québec, pendant leur migration vers le sud."
        ),
    ),
    "refugie_climatique_en": (
        "Climate refugees flee Pacific islands",
        (
            "Residents of Tuvalu are becoming the world's first climate refugees as "
            "rising seas swallow their atolls, and Australia has begun admitting them"
            " under a special treaty."
        ),
    ),
    "visa_fr": (
        "Voyage : le visa électronique du Royaume-Uni",
        (
            "Les voyageurs canadiens devront obtenir une autorisation de voyage "
            "électronique avant de se rendre au Royaume-Uni à partir de janvier, a "
            "annoncé Londres."
        ),
    ),
    "fr_asile_politique_eu": (
        "L'Espagne accorde l'asile à un opposant vénézuélien",
        (
            "Madrid a accordé l'asile politique à l'ancien candidat de l'opposition "
            "vénézuélienne, qui a fui Caracas après l'élection contestée. Le "
            "gouvernement espagnol affirme avoir agi pour des raisons humanitaires."
        ),
    ),
    "fr_seuil_alcool": (
        "Conduite : Québec ne baissera pas le seuil",
        (
            "Le gouvernement du Québec n'abaissera pas le seuil d'alcoolémie permis "
            "au volant à 0,05, malgré les demandes de la Santé publique, a confirmé "
            "la ministre des Transports."
        ),
    ),
    "fr_visa_carte": (
        "Fraude : des cartes Visa clonées à Sherbrooke",
        (
            "La police de Sherbrooke enquête sur un réseau de fraudeurs qui aurait "
            "cloné des dizaines de cartes Visa et Mastercard dans des "
            "stations-service de la région."
        ),
    ),
    "fr_naturalise": (
        "Un Québécois naturalisé italien aux Jeux",
        (
            "Le patineur de Saint-Jérôme, naturalisé italien l'an dernier grâce à ses"
            " grands-parents, représentera l'Italie aux Jeux olympiques de "
            "Milan-Cortina."
        ),
    ),
    "fr_histoire": (
        "Les immigrants italiens de la Petite Italie",
        (
            "Un nouveau livre retrace l'histoire des immigrants italiens arrivés à "
            "Montréal au début du XXe siècle et la naissance de la Petite Italie, "
            "autour du marché Jean-Talon."
        ),
    ),
    "en_ee_draw_lottery": (
        "Draw for hunting licences opens",
        (
            "Alberta's annual draw for special hunting licences opens Monday, with "
            "more than 100,000 applications expected, the province said."
        ),
    ),
    "en_quota_lobster": (
        "Lobster fishermen protest quota talk",
        (
            "Lobster fishermen in southwest Nova Scotia protested in Yarmouth on "
            "Saturday against a proposed quota system for the region's fishery, the "
            "first of its kind."
        ),
    ),
    "en_naturalized_nba": (
        "Raptors guard cleared to play for Canada",
        (
            "FIBA has cleared the Raptors guard to play for Canada's national team "
            "after he was naturalized, Canada Basketball said, ending months of "
            "uncertainty before the qualifiers."
        ),
    ),
    "en_genealogy_dna": (
        "DNA test reveals Winnipeg man's Ukrainian roots",
        (
            "A Winnipeg man who always thought his family came from Poland discovered"
            " through a DNA test that his great-grandparents immigrated from western "
            "Ukraine in 1902, part of the first wave of Ukrainian settlers on the "
            "Prairies."
        ),
    ),
    "fr_asile_hugo": (
        "La Maison de l'asile de Victor Hugo",
        (
            "Guernesey célèbre l'exil de Victor Hugo, qui trouva asile sur l'île "
            "pendant quinze ans. Sa maison, Hauteville House, attire chaque année des"
            " milliers de visiteurs."
        ),
    ),
    "fr_refugie_politique_chili": (
        "Les réfugiés chiliens de 1973 se souviennent",
        (
            "Cinquante ans après le coup d'État au Chili, des réfugiés chiliens "
            "arrivés à Montréal en 1973 racontent leur exil lors d'une exposition au "
            "Centre d'histoire de Montréal."
        ),
    ),
    "fr_seuil_chaleur": (
        "Alerte de chaleur : le seuil atteint",
        (
            "Le seuil de chaleur extrême a été atteint à Montréal pour la troisième "
            "journée consécutive, a indiqué la Santé publique."
        ),
    ),
    "fr_cible_federale_inflation": (
        "Le Québec n'atteindra pas sa cible de déficit",
        (
            "Le gouvernement du Québec n'atteindra pas sa cible de déficit de 11 "
            "milliards cette année, selon le ministre des Finances."
        ),
    ),
    "en_draw_ee_lotto": (
        "Express lane at Calgary airport",
        (
            "Calgary International Airport is adding an express lane for passengers "
            "with NEXUS cards, promising shorter waits at security this summer."
        ),
    ),
    "en_quota_cod": (
        "Northern cod quota increased",
        (
            "The federal fisheries minister raised the northern cod quota to 38,000 "
            "tonnes, angering conservation groups who say the stock has not "
            "recovered."
        ),
    ),
    "en_naturalized_olympian": (
        "Naturalized skaters boost Korea",
        (
            "South Korea's short-track team added two naturalized skaters born in "
            "Russia as it prepares for the world championships in Montreal."
        ),
    ),
    "en_uk_visa": (
        "UK raises skilled worker visa threshold",
        (
            "Britain's Home Office raised the salary threshold for skilled worker "
            "visas to 38,700 pounds, a move the government says will cut net "
            "migration by 300,000."
        ),
    ),
    "en_genealogy_ship": (
        "Ship manifests go online",
        (
            "Library and Archives Canada has put passenger lists for ships that "
            "arrived in Halifax between 1881 and 1922 online, a boon for genealogists"
            " tracing immigrant ancestors."
        ),
    ),
    "fr_asile_hopital": (
        "Un documentaire sur l'asile de Beauport",
        (
            "Un documentaire retrace l'histoire de l'asile de Beauport, où des "
            "milliers de patients psychiatriques ont été internés au XIXe siècle."
        ),
    ),
    "fr_droit_asile_allemagne": (
        "Berlin resserre le droit d'asile",
        (
            "Le gouvernement allemand a annoncé un resserrement du droit d'asile et "
            "le refoulement de migrants à ses frontières, une décision critiquée par "
            "la Pologne et l'Autriche."
        ),
    ),
    "fr_quota_chasse": (
        "Chasse à l'orignal : les quotas revus",
        (
            "Le ministère de la Faune réduit les quotas de chasse à l'orignal dans "
            "plusieurs zones de l'Abitibi, en raison d'une baisse de la population."
        ),
    ),
    "fr_seuil_pauvrete_2": (
        "Les aînés sous le seuil de pauvreté",
        (
            "Un aîné sur cinq vit sous le seuil de pauvreté au Québec, selon un "
            "rapport de l'Observatoire québécois des inégalités publié mardi."
        ),
    ),
    "fr_naturalise_tennis": (
        "Une joueuse naturalisée canadienne",
        (
            "La joueuse de tennis, née en Roumanie et naturalisée canadienne à "
            "l'adolescence, s'est qualifiée pour le tableau principal de l'Omnium "
            "Banque Nationale à Montréal."
        ),
    ),
    "en_history_pier21": (
        "Pier 21 exhibit recalls postwar arrivals",
        (
            "A new exhibit at the Canadian Museum of Immigration at Pier 21 recalls "
            "the war brides and displaced persons who arrived in Halifax after the "
            "Second World War."
        ),
    ),
    "en_visa_rewards": (
        "Visa rewards program revamped",
        (
            "A major Canadian bank is revamping its Visa Infinite rewards program, "
            "with more travel points and a higher annual fee, starting in April."
        ),
    ),
    "fr_asile_eglise": (
        "L'église de Saint-Henri, asile des sans-abri",
        (
            "L'église de Saint-Henri sert d'asile de nuit à une quarantaine de "
            "personnes itinérantes pendant les grands froids, grâce à des bénévoles "
            "du quartier."
        ),
    ),
    "fr_cible_carbone": (
        "GES : Québec n'atteindra pas sa cible",
        (
            "Le Québec n'atteindra pas sa cible de réduction des gaz à effet de serre"
            " de 37,5 % d'ici 2030, prévient le commissaire au développement durable."
        ),
    ),
    "fr_visa_le_vin": (
        "Des vins « Visa pour l'Italie » à la SAQ",
        (
            "La SAQ lance une promotion de vins italiens baptisée « Visa pour "
            "l'Italie », avec une vingtaine de nouveaux produits en succursale."
        ),
    ),
    "fr_naturalisation_foot": (
        "Le Canada mise sur un gardien naturalisé",
        (
            "Le gardien de but de l'équipe canadienne de soccer, né en Angleterre et "
            "naturalisé canadien en 2023, sera titulaire contre le Mexique."
        ),
    ),
    "fr_genealogie_acadie": (
        "Sur les traces des Acadiens déportés",
        (
            "Des descendants d'Acadiens déportés en 1755 se réunissent à Grand-Pré "
            "pour une cérémonie commémorative, 270 ans après le Grand Dérangement."
        ),
    ),
    "en_quota_snow_crab": (
        "Snow crab quota cut in the Gulf",
        (
            "Fisheries and Oceans Canada cut the snow crab quota in the southern Gulf"
            " of St. Lawrence by 25 per cent, a blow to harvesters in New Brunswick "
            "and P.E.I."
        ),
    ),
    "en_naturalized_curling": (
        "Naturalized curler leads Swiss",
        (
            "The Swiss women's curling team, led by a naturalized skip born in "
            "Winnipeg, won the European title in Lohja, Finland."
        ),
    ),
    "en_poverty_threshold": (
        "Calgary living wage rises",
        (
            "Calgary's living wage rose to $25.90 an hour, well above the poverty "
            "threshold, according to a report from a local non-profit."
        ),
    ),
}
#: (headline, text, figure, its tracked identity or None)
FIGURES: list[tuple[str, str, str, str | None]] = [
    (
        *RELEVANT["planif_consultation"][:2],
        "entre 45 000 et 50 000 immigrants permanents par année",
        QUEBEC,
    ),
    (
        "Québec maintient sa cible",
        (
            "Le gouvernement Legault maintiendra sa cible de 50 000 immigrants "
            "permanents par année en 2026, selon le plan annuel d'immigration déposé "
            "jeudi à l'Assemblée nationale par le ministre."
        ),
        "50 000 immigrants permanents par année",
        QUEBEC,
    ),
    (
        "Seuils d'immigration : le PQ veut 35 000",
        (
            "Le Parti québécois propose de ramener les seuils d'immigration "
            "permanente à 35 000 personnes par année, soit bien en deçà de la cible "
            "actuelle du gouvernement. Son chef soutient que la capacité d'accueil du"
            " Québec est dépassée, notamment en matière de logement et de "
            "francisation."
        ),
        "35 000 personnes par année",
        None,
    ),
    (
        "Ottawa plafonne les permis d'études",
        (
            "Ottawa limitera à environ 360 000 le nombre de permis d'études accordés "
            "cette année, une baisse de 35 % par rapport à 2023, a annoncé le "
            "ministre fédéral de l'Immigration. Les établissements québécois "
            "réclament un traitement particulier pour les étudiants francophones."
        ),
        "360 000",
        None,
    ),
    (
        "Express Entry draw invites 4,500 candidates",
        (
            "Immigration, Refugees and Citizenship Canada invited 4,500 candidates to"
            " apply for permanent residence in the latest Express Entry draw, with a "
            "minimum Comprehensive Ranking System score of 529. It was the third "
            "Canadian Experience Class draw this month."
        ),
        "4,500 candidates",
        None,
    ),
    (
        "Canada to admit 380,000 a year",
        (
            "Canada will admit 380,000 permanent residents a year by 2027 under the "
            "new immigration levels plan tabled in Ottawa on Thursday."
        ),
        "380,000 permanent residents a year",
        CANADA,
    ),
    (
        "Express Entry invitations hit record",
        (
            "IRCC issued 110,000 invitations to apply through Express Entry last "
            "year, a record, as the department cleared its backlog."
        ),
        "110,000 invitations",
        None,
    ),
    (
        "Quebec holds immigration at 50,000",
        (
            "Quebec will keep its immigration target at 50,000 permanent immigrants a"
            " year through 2027, Premier François Legault's government said Thursday "
            "in its multi-year plan."
        ),
        "50,000 permanent immigrants a year",
        QUEBEC,
    ),
    (
        "Express Entry to invite fewer candidates",
        (
            "Canada will invite about 90,000 Express Entry candidates a year under "
            "the new plan, IRCC said, with a CRS cut-off expected to rise above 540."
        ),
        "90,000 Express Entry candidates a year",
        None,
    ),
    (
        "Permis d'études : un plafond de 360 000",
        (
            "Le plafond de 360 000 permis d'études fixé par Ottawa pour 2024 fera "
            "chuter de moitié les nouvelles inscriptions d'étudiants étrangers dans "
            "certaines provinces, prévient Universités Canada."
        ),
        "360 000 permis d'études",
        None,
    ),
    (
        "Ottawa réduit ses cibles",
        (
            "Le gouvernement fédéral ramènera sa cible d'immigration permanente à 395"
            " 000 personnes par année, a annoncé le ministre de l'Immigration à "
            "Ottawa."
        ),
        "395 000 personnes par année",
        CANADA,
    ),
    (
        "Le patronat veut plus d'immigrants",
        (
            "Le Conseil du patronat du Québec réclame un seuil de 70 000 immigrants "
            "permanents par année, estimant que la pénurie de main-d'œuvre menace la "
            "croissance des régions."
        ),
        "70 000 immigrants permanents par année",
        None,
    ),
    (
        "Un record d'admissions",
        (
            "Le Québec a accueilli 52 800 immigrants permanents l'an dernier, un "
            "sommet depuis 2019, selon les données du ministère de l'Immigration."
        ),
        "52 800 immigrants permanents",
        None,
    ),
    (
        "Québec accueille près de la moitié des demandeurs d'asile",
        (
            "Le Québec a reçu 65 000 demandeurs d'asile en 2023, soit 45 % de "
            "l'ensemble des demandes au Canada, selon Immigration, Réfugiés et "
            "Citoyenneté Canada."
        ),
        "65 000 demandeurs d'asile",
        None,
    ),
    (
        "Québec solidaire propose 60 000",
        (
            "Québec solidaire accueillerait jusqu'à 60 000 immigrants par année s'il "
            "prenait le pouvoir, a précisé sa porte-parole en matière d'immigration."
        ),
        "60 000 immigrants par année",
        None,
    ),
    (
        "Entrée express : 6 000 invitations aux francophones",
        (
            "Ottawa a lancé 6 000 invitations à présenter une demande de résidence "
            "permanente dans le cadre d'un tirage d'Entrée express réservé aux "
            "candidats parlant français, avec un score minimal de 365."
        ),
        "6 000 invitations",
        None,
    ),
    (
        "Québec réduira l'immigration permanente",
        (
            "Le gouvernement du Québec réduira son seuil d'immigration permanente à "
            "45 000 personnes par année à compter de 2026, selon le plan déposé par "
            "le ministre."
        ),
        "45 000 personnes par année",
        QUEBEC,
    ),
    (
        "Planification 2026-2029",
        (
            "Selon la planification pluriannuelle, le Québec admettra entre 45 000 et"
            " 50 000 immigrants par année d'ici 2029."
        ),
        "entre 45 000 et 50 000 immigrants par année",
        QUEBEC,
    ),
    (
        "Federal plan trims immigration",
        (
            "Ottawa will admit 365,000 permanent residents a year by 2027, down from "
            "485,000 this year, according to the levels plan released Thursday."
        ),
        "365,000 permanent residents a year",
        CANADA,
    ),
    (
        "Health-care workers targeted in latest draw",
        (
            "IRCC invited 3,500 health-care workers to apply for permanent residence "
            "in a category-based Express Entry draw on Tuesday, with a cut-off score "
            "of 422. B.C.'s health minister welcomed the draw."
        ),
        "3,500 health-care workers",
        None,
    ),
    (
        "Immigration : Québec abaisse sa cible à 45 000",
        (
            "Le gouvernement caquiste abaissera sa cible à 45 000 immigrants "
            "permanents par année dès 2026, a confirmé le ministre de l'Immigration, "
            "jeudi, en déposant son plan annuel."
        ),
        "45 000 immigrants permanents par année",
        QUEBEC,
    ),
    (
        "Le PQ couperait l'immigration de moitié",
        (
            "Un gouvernement péquiste réduirait l'immigration permanente à 25 000 "
            "personnes par année pendant le premier mandat, a promis le chef du Parti"
            " québécois."
        ),
        "25 000 personnes par année",
        None,
    ),
    (
        "Entrée express : le score minimal grimpe à 549",
        (
            "Le score minimal exigé lors du dernier tirage d'Entrée express a grimpé "
            "à 549 points, et seulement 1 800 candidats ont été invités à présenter "
            "une demande de résidence permanente, selon IRCC."
        ),
        "1 800 candidats",
        None,
    ),
    (
        "Ottawa vise 365 000 résidents permanents",
        (
            "Le gouvernement Carney prévoit d'admettre 380 000 résidents permanents "
            "par année en 2026, puis 365 000 en 2027, selon le plan des niveaux "
            "d'immigration déposé mardi."
        ),
        "380 000 résidents permanents par année",
        CANADA,
    ),
    (
        "NDP would raise immigration",
        (
            "The NDP would raise Canada's permanent resident target to 500,000 a "
            "year, the party's leader pledged Wednesday."
        ),
        "500,000 a year",
        None,
    ),
    (
        "Provinces get 55,000 nominee spots",
        (
            "The federal levels plan sets aside 55,000 spaces a year for provincial "
            "nominee programs, half of what provinces had been promised, premiers "
            "said after meeting in Halifax."
        ),
        "55,000 spaces a year",
        None,
    ),
    (
        "Study permit cap set at 437,000",
        (
            "Ottawa will cap study permits at 437,000 next year, a 10 per cent "
            "reduction, the immigration minister said, with a share reserved for "
            "graduate students."
        ),
        "437,000",
        None,
    ),
    (
        "Latest draw targets trades",
        (
            "A trades-only Express Entry draw on Monday invited 1,000 candidates with"
            " a cut-off score of 433, the lowest for any draw this year."
        ),
        "1,000 candidates",
        None,
    ),
    (
        "Record number of new citizens",
        (
            "Canada welcomed a record 375,000 new citizens last year, IRCC said, "
            "after clearing a pandemic backlog of citizenship applications."
        ),
        "375,000 new citizens",
        None,
    ),
    (
        "Le seuil fixé à 45 000 pour 2026",
        (
            "Québec fixe son seuil d'immigration permanente à 45 000 personnes par "
            "année pour 2026, a annoncé mardi le ministre de l'Immigration."
        ),
        "45 000 personnes par année",
        QUEBEC,
    ),
    (
        "Les employeurs veulent 70 000 immigrants",
        (
            "Les Manufacturiers et Exportateurs du Québec proposent que le Québec "
            "accueille 70 000 immigrants permanents par année pour répondre à la "
            "pénurie de main-d'œuvre."
        ),
        "70 000 immigrants permanents par année",
        None,
    ),
    (
        "Un nombre d'admissions en baisse",
        (
            "Le Québec a admis 49 500 immigrants permanents en 2024, contre 52 800 "
            "l'année précédente, selon les données du ministère."
        ),
        "49 500 immigrants permanents",
        None,
    ),
    (
        "CEC draw cut-off drops",
        (
            "The minimum score for Canadian Experience Class candidates fell to 518 "
            "in Wednesday's Express Entry draw, in which IRCC issued 3,000 "
            "invitations to apply."
        ),
        "3,000 invitations",
        None,
    ),
    (
        "Ottawa to lower its target",
        (
            "The federal government will lower its target to 380,000 permanent "
            "residents a year for 2026, the immigration minister said."
        ),
        "380,000 permanent residents a year",
        CANADA,
    ),
    (
        "Immigration permanente : la cible reste à 50 000",
        (
            "Le gouvernement du Québec garde le cap : sa cible demeure de 50 000 "
            "immigrants permanents par année, a réitéré le premier ministre en point "
            "de presse."
        ),
        "50 000 immigrants permanents par année",
        QUEBEC,
    ),
    (
        "Manitoba nominee allocation restored",
        (
            "Ottawa will restore Manitoba's provincial nominee allocation to 9,500 "
            "next year, the province's labour and immigration minister said Monday."
        ),
        "9,500",
        None,
    ),
    (
        "Express Entry draw invites 2,000 healthcare workers",
        (
            "IRCC invited 2,000 health-care workers in a category-based Express Entry"
            " draw Thursday, with a minimum score of 475."
        ),
        "2,000 health-care workers",
        None,
    ),
]


@pytest.mark.parametrize("name", sorted(RELEVANT))
def test_quebec_and_regional_news_is_relevant_with_its_topics(tagger: Tagger, name: str) -> None:
    title, text, topics = RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert set(topics) <= set(result.topics), result.why


@pytest.mark.parametrize("name", sorted(NOT_RELEVANT))
def test_quebec_and_regional_look_alikes_are_not_relevant(tagger: Tagger, name: str) -> None:
    title, text = NOT_RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.topics == ()


@pytest.mark.parametrize(("title", "text", "figure", "expected"), FIGURES)
def test_only_a_governments_target_is_tracked(
    tagger: Tagger, title: str, text: str, figure: str, expected: str | None
) -> None:
    result = tag_checked(tagger, text, title)
    keys = {m.text: tracked_key(m, title) for m in result.figures}
    # An invitation count or a cut-off score need not be a figure at all; if it is, untracked.
    assert keys.get(figure) == expected, keys
    tracked = {text for text, key in keys.items() if key is not None}
    assert tracked <= {figure}, tracked
