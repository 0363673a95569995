"""The French sentences a person reads when the app refuses something, written once.

Every domain error (:mod:`geo.errors`) raised with a code of :data:`MESSAGES` carries the
code and its values; its French sentence is rendered here, by :func:`render`, and the
API's error body keeps the code beside it (``code``, ``fields[].type``). A field is named
in words by :data:`FIELD_LABELS` (:func:`field_label`). The templates take named
placeholders only (``{commune}``), without format specifications: :func:`render` writes
the values the French way (``10 000``, ``2,5``, lists joined by commas).

Codes are stable snake_case English: clients and tests may rely on them; the sentences
may change.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable, Mapping

from geo.messages_more import MORE_FIELD_LABELS, MORE_MESSAGES

#: code → French sentence (the message of the field, without the field's name).
MESSAGES: dict[str, str] = {
    # The base map and the database's health.
    "basemap_view_too_wide": (
        "vue trop large pour les noms de rues (au plus {span}° de côté au zoom {zoom})"
    ),
    "database_without_postgis": "base de données : l'extension PostGIS n'est pas installée",
    "database_not_migrated": (
        "base de données : schéma à la migration {current}, attendu {head} ; "
        "lancez « psq db migrate »"
    ),
    "database_no_answer": "base de données : pas de réponse en {seconds} s (serveur saturé ?)",
    # The OGC API's paging.
    "ogc_after_without_id_order": (
        "after : la pagination par identifiant ne vaut que pour les collections lues dans "
        "l'ordre de leurs identifiants numériques, sans sortby"
    ),
    # -- geometries ------------------------------------------------------------------------
    "geometry_type_unknown": (
        "type de géométrie GeoJSON inconnu ou non accepté « {kind} » ; attendu : {expected}"
    ),
    "geometry_unreadable": "géométrie GeoJSON illisible ({reason})",
    "geometry_type_not_accepted": (
        "une géométrie « {kind} » n'est pas acceptée ici ; attendu : {expected}"
    ),
    "geometry_empty": "géométrie vide : dessinez-la sur la carte",
    "geometry_too_many_positions": (
        "géométrie trop détaillée : au plus {most} positions ; simplifiez-la"
    ),
    "geometry_too_deep": (
        "coordonnées trop imbriquées : une position est [longitude, latitude], un "
        "MultiPolygon en compte au plus quatre niveaux"
    ),
    "geometry_not_wgs84": (
        "coordonnées {bounds} hors des longitudes et latitudes possibles (WGS84, degrés)"
    ),
    "geometry_invalid": (
        "géométrie {kind} invalide ({reason}) ; redessinez-la sans que son contour se recoupe"
    ),
    "geometry_unrepairable": "géométrie invalide irréparable — {shown}",
    "outside_territory": (
        "le lieu [{lon}, {lat}] (longitude, latitude) est hors de {territory} ; "
        "placez-le à l'intérieur"
    ),
    "outside_territory_swapped": (
        "le lieu [{lon}, {lat}] (longitude, latitude) est hors de {territory} ; "
        "la latitude et la longitude sont-elles inversées ?"
    ),
    "tolerance_one_of_degrees_or_metres": (
        "donnez une seule tolérance positive, en degrés ou en mètres, pas les deux "
        "({degrees} degrés et {metres} mètres reçus)"
    ),
    # -- sectorisation ---------------------------------------------------------------------
    "commune_too_heavy_to_keep_whole": (
        "trop chargé pour rester entier : {communes} ; la charge d'un secteur doit rester "
        "entre {low} et {high} (±{tolerance} %). Sur le formulaire, baissez le seuil "
        "« Communes jamais coupées sous » (actuellement {threshold} habitants), augmentez "
        "le nombre de secteurs ou l'écart de charge admis"
    ),
    "exact_infeasible": "aucun découpage en {k} secteurs {what} : preuve du solveur",
    "exact_nothing_in_time": (
        "aucun découpage en {k} secteurs trouvé en {seconds} s, et pas de preuve qu'il n'en "
        "existe pas{known} : allongez le temps maximal"
    ),
    "exact_too_many_units": (
        "le mode exact est limité à {limit} unités, la grille en a {units} ; choisissez une "
        "résolution moins fine ou la méthode engine"
    ),
    "exact_sectors_per_part": (
        "le mode exact répartit lui-même les secteurs entre les parties du territoire ; "
        "laissez ce champ vide ou choisissez la méthode engine"
    ),
    "unknown_objective": "objectif inconnu « {objective} » ; valeurs possibles : {expected}",
    "objective_weight_out_of_range": "la part de la distance doit être entre 0 et 1, pas {value}",
    "unknown_method": "méthode inconnue « {method} » ; attendu : {expected}",
    "unknown_units": "unités inconnues « {units} » ; attendu : {expected}",
    "time_limit_out_of_range": "le temps maximal doit être entre {low} et {high} s, reçu {value}",
    "seed_not_a_position": "{value} n'est pas une position (longitude, latitude)",
    "more_sectors_than_groups": (
        "{k} secteurs demandés, mais seuls {groups} groupes d'unités peuvent être séparés "
        "(les communes de moins de {threshold} habitants restent entières) : diminuez le "
        "nombre de secteurs ou baissez le seuil « Communes jamais coupées sous »"
    ),
    "plan_k_or_target_workload": (
        "indiquez soit le nombre de secteurs, soit la charge visée par secteur"
    ),
    "seed_not_wgs84": (
        "[{lon}, {lat}] n'est pas une position [longitude, latitude] en degrés (WGS84)"
    ),
    "unknown_workload_variables": (
        "variable(s) de charge inconnue(s) : {unknown} ; disponibles : {available}"
    ),
    "plan_on_earlier_grid": (
        "le plan n° {plan_id} a été fait sur une grille antérieure (résolution {resolution}) : "
        "{matched} de ses {plan_cells} cellules sont dans la grille actuelle de {cells} "
        "cellules ; faites une nouvelle proposition ou importez-le à nouveau"
    ),
    "plan_cells_missing": (
        "le plan n° {plan_id} n'a pas de secteur pour {missing} cellule(s) de la grille "
        "actuelle (par ex. {example}) : la grille a été reconstruite après le plan"
    ),
    "more_sectors_than_cells": (
        "{k} secteurs, c'est plus que les {cells} cellules de la grille (résolution "
        "{resolution}) : diminuez le nombre de secteurs ou choisissez une grille plus fine"
    ),
    "proposal_over_budget": (
        "{k} secteurs sur les {cells} unités de la grille demandent {work} unités-secteurs, "
        "au-delà des {budget} qu'une proposition peut demander (PSQ_MAX_PROPOSAL_WORK) ; "
        "choisissez moins de secteurs ou une résolution moins fine"
    ),
    "locked_too_many": (
        "il ne reste que {free} groupe(s) d'unités libres pour {sectors} secteur(s) sans "
        "unité fixée : fixez moins d'unités"
    ),
    "sectors_without_unit": "secteur(s) sans unité : {sectors}",
    "more_seeds_than_sectors": (
        "{seeds} points d'ancrage pour {k} secteurs : au plus un par secteur"
    ),
    "locked_cells_unknown": (
        "cellule(s) {cells} absente(s) de la grille de cette CSP (résolution {resolution})"
    ),
    "locked_sector_out_of_range": (
        "la cellule {cell} est fixée au secteur {sector}, hors de 0 … {last}"
    ),
    "workload_weight_out_of_range": (
        "le poids de « {name} » ({weight}) doit être un nombre entre 0 et {most}"
    ),
    "grid_weights_problems": (
        "les problématiques sont comptées à chaque lecture des cellules, pas enregistrées "
        "avec la grille : pondérez-les dans une proposition de secteurs"
    ),
    "blocks_need_barriers": (
        "des îlots demandent une couche de coupures (routes, voies ferrées, rivières) dans "
        "la CSP {csp_id}, qui n'en a pas : importez-en une, ou construisez une grille H3"
    ),
    "sector_layer_without_crs": ("la couche de secteurs ne déclare pas de système de coordonnées"),
    "sector_layer_empty": "la couche de secteurs n'a aucun objet avec une géométrie",
    "sector_layer_not_polygons": "les secteurs doivent être des polygones, reçu : {kinds}",
    "sector_layer_column_missing": (
        "la couche de secteurs n'a pas de colonne « {column} » ; colonnes trouvées : {found}"
    ),
    "sector_layer_outside_territory": (
        "aucun polygone de la couche ne touche le territoire (système de coordonnées "
        "déclaré erroné ?)"
    ),
    "gpo_not_in_csp": "aucun GPO n° {gpo_id} dans la CSP n° {csp_id}",
    "gpo_inactive": "le GPO n° {gpo_id} est inactif (son secteur a quitté le plan)",
    "gpo_without_sector": "le GPO n° {gpo_id} n'a pas de secteur dans un plan adopté",
    "gpo_sectors_missing": (
        "le GPO n° {gpo_id} couvre des secteurs que le plan adopté n'a pas : {sectors} ; "
        "mettez ses secteurs à jour"
    ),
    "commune_unknown": "commune inconnue « {code} »",
    "commune_outside_perimeter": "aucune commune {code} dans votre périmètre",
    "commune_in_no_csp": "la commune {name} ({code}) n'appartient à aucune CSP",
    "adoption_not_confirmed": (
        "confirmez l'adoption (confirm: true) après avoir vu ce qui change pour chaque GPO "
        "(GET /api/plans/{{id}}/adoption)"
    ),
    "adoption_replaced_plan_missing": (
        "indiquez le plan adopté que cette adoption remplace (null s'il n'y en a pas)"
    ),
    # -- generic values ---------------------------------------------------------------------
    "parameter_expected": "{name} : {expected} attendu(e), reçu {got}",
    "lengths_differ": "{first} valeur(s) pour {second} {what}(s) : une par {what}",
    "lines_without_class": "pas de colonne « class » pour choisir {classes}",
    "territory_without_area": "le territoire n'a pas de surface",
    "no_problems_for_density": "aucune problématique pour calculer une densité",
    "period_end_before_start": "la fin {end} ne suit pas le début {start}",
    "synth_no_cells": "aucune unité où placer des problématiques",
    "not_found_by_id": "introuvable : {what} n° {row_id} (ou hors de votre périmètre)",
    "stale_version": (
        "{what} a été modifiée entre-temps (version {stored}, vous aviez la version "
        "{expected}) ; rechargez-la avant de la modifier"
    ),
    "unknown_code": "valeur inconnue « {value} » ; valeurs possibles : {expected}",
    "date_in_future": "le {day} est dans le futur",
    "datetime_out_of_range": (
        "date et heure hors des limites : avec son fuseau horaire, elle doit tomber entre "
        "les années 1 et 9999"
    ),
    "not_a_gpo_cadence": "{value} n'est pas une périodicité de GPO (15 ou 30 jours)",
    "local_time_expected": "heure locale attendue, sans fuseau horaire (HH:MM)",
    "not_an_email": "« {value} » n'est pas une adresse e-mail (exemple : mairie@commune.fr)",
    "invalid_phone": "numéro de téléphone invalide « {value} »",
    "text_too_long": "au plus {limit} caractères",
    "duplicate_objective": "un objectif apparaît deux fois",
    "duplicate_signatory": "un signataire apparaît deux fois",
    "quartier_or_whole_commune": (
        "dessinez le quartier, ou choisissez toute la commune, l'un ou l'autre"
    ),
    "sms_needs_phone": "un numéro de téléphone est nécessaire pour les SMS",
    "decision_detail_needed": "renseignez le détail de la décision",
    "decision_problem_needed": "choisissez la problématique concernée",
    "note_text_needed": "écrivez la note",
    "quiet_hours_both": "donnez le début et la fin des heures de silence",
    # -- safety-study requests (/commune) ---------------------------------------------------
    "study_site_or_address": (
        "placez le site sur la carte (point ou périmètre) ou indiquez son adresse"
    ),
    "study_dates_order": (
        "la fin de la période souhaitée ({desired_to}) précède son début ({desired_from})"
    ),
    "study_contact_email_or_phone": "indiquez un courriel ou un téléphone de contact",
    "study_address_not_found": (
        "aucune adresse « {address} » trouvée dans la commune {commune} ; placez plutôt "
        "le site sur la carte"
    ),
    "study_request_duplicate": (
        "la demande n° {existing_id} pour ce site est déjà ouverte ({status} depuis le "
        "{since}) ; confirmez pour en déposer une autre"
    ),
    "study_commune_outside_perimeter": (
        "la commune {commune} n'est pas dans votre périmètre ; une commune dépose ses propres "
        "demandes"
    ),
    "study_evidence_for_referents": (
        "les problématiques autour des sites sont réservées aux référents ; une commune les "
        "voit agrégées sur la page de sa commune"
    ),
    "study_evidence_needs_csp": (
        "indiquez la CSP (csp=) dont les problématiques servent d'éléments"
    ),
    "study_referent_unknown": "aucun référent n° {referent_id} dans cette CSP",
    "study_referent_inactive": "le référent n° {referent_id} n'est plus actif",
    "study_step_before_last": (
        "le {day} précède la dernière étape de la demande (« {status} » le {since})"
    ),
    "study_planned_before_request": "le {day} précède la demande (déposée le {requested_on})",
    "study_planned_too_far": "le {day} est à plus de {days} jours",
    "study_done_before_planned": "le {day} précède la date prévue de l'étude ({planned_on})",
    "study_document_too_early": (
        "la demande n° {request_id} est « {status} » : un document est remis une fois "
        "l'étude réalisée"
    ),
    "study_document_type": (
        "type de fichier « {media_type} » non accepté ; envoyez un PDF, ODT, DOCX, PNG, "
        "JPEG ou texte"
    ),
    "file_empty": "le fichier « {filename} » est vide",
    "study_transition_refused": (
        "une demande « {current} » ne peut pas passer à « {new} » ; possible : {allowed}"
    ),
    "study_planned_needs_date": "une étude planifiée a besoin de sa date",
    "study_planned_needs_referent": "une étude planifiée a besoin de son référent",
    "study_refused_needs_reason": "un refus a besoin du motif donné à la commune",
    "study_recommendations_needed": (
        "les préconisations remises ont besoin de leur texte ou d'un document"
    ),
    # -- problems and actions (/problematiques) --------------------------------------------
    "problem_geometry_or_position": "placez la problématique sur la carte (ou donnez lon et lat)",
    "action_due_before_start": "l'échéance ({due_on}) précède le début ({start_on})",
    "problem_transition_refused": (
        "une problématique « {current} » ne peut pas passer à « {new} » ; possible : {allowed}"
    ),
    "action_transition_refused": (
        "une action « {current} » ne peut pas passer à « {new} » ; elle peut passer à {allowed}"
    ),
    "action_closed": (
        "une action « {current} » ne peut pas passer à « {new} » ; elle est terminée"
    ),
    "partner_not_in_csp": "aucun partenaire n° {partner_id} dans cette CSP",
    "lead_partner_not_in_gpo": (
        "le partenaire n° {partner_id} ne siège pas au GPO de cette problématique ; "
        "ajoutez-le à la composition du GPO ou choisissez un de ses partenaires"
    ),
    "problem_step_before_last": (
        "le {day} précède la dernière étape de la problématique (« {status} » le {since})"
    ),
    "problem_outside_my_sectors": (
        "ce lieu est hors des secteurs de vos GPO ; la problématique doit être signalée au "
        "GPO du secteur où elle se trouve"
    ),
    "problem_closed_for_actions": (
        "la problématique n° {problem_id} est « {status} » ; elle ne reçoit plus d'action"
    ),
    "action_before_report": "le {day} précède le signalement de la problématique ({reported_on})",
    "problem_nothing_to_evaluate": (
        "la problématique n° {problem_id} n'a pas d'action à évaluer ; enregistrez d'abord "
        "ses actions"
    ),
    "problem_needs_evaluation": ("« {new} » demande d'abord une évaluation des actions"),
    # -- accounts ---------------------------------------------------------------------------
    "password_too_short": "au moins {limit} caractères ({got} reçus)",
    "password_only_spaces": "un mot de passe fait d'espaces seulement n'est pas accepté",
    "role_binding_wrong": "le rôle « {role} » est rattaché à {bound}, pas à {kind}",
    "role_binding_none": "le rôle « {role} » n'est rattaché à rien, pas à {kind}",
    "role_binding_missing": "le rôle « {role} » doit être rattaché à au moins {kind}",
    "session_durations_positive": (
        "les durées d'inactivité et de vie d'une session doivent être positives"
    ),
    # -- files and layers -------------------------------------------------------------------
    "form_field_unknown": (
        "champ inconnu dans le formulaire : {names} ; champs acceptés : {accepted}"
    ),
    "layer_unreadable": "{source} : fichier illisible ({reason})",
    "layer_empty": "{source} : le fichier ne contient aucun objet",
    "layer_without_buildings": (
        "{source} : aucun bâtiment dans le fichier (un extrait OpenStreetMap n'en a que s'il a "
        "des polygones étiquetés building)"
    ),
    "layer_without_crs": (
        "{source} : le fichier ne déclare pas de système de coordonnées ; ajoutez-en un "
        "(un fichier .prj pour un Shapefile) pour qu'il puisse être reprojeté en WGS84"
    ),
    "layer_missing_columns": (
        "{source} : colonne(s) manquante(s) — attendu {wanted} ; colonnes trouvées : {found}"
    ),
    "layer_bad_values": "{source} : colonne « {column} » : {problem} : {values}",
    "layer_geometry_type": "{source} : géométries {expected} attendues, reçu : {offenders}",
    "layer_coordinates_out_of_range": (
        "{source} : les coordonnées {bounds} sortent des longitudes et latitudes possibles "
        "une fois lues en {crs} ; le système de coordonnées déclaré est-il le bon ?"
    ),
    "layer_coordinates_swapped": (
        "{source} : aucun objet ne tombe dans le territoire, mais ils y tombent une fois "
        "latitude et longitude échangées : le fichier a ses coordonnées dans l'ordre "
        "(latitude, longitude) ; écrivez-les (longitude, latitude)"
    ),
    "layer_outside_territory": (
        "{source} : aucun objet ne touche le territoire (emprise de la couche {layer_bounds}, "
        "du territoire {territory_bounds}) ; vérifiez le fichier et son système de coordonnées"
    ),
    "layer_crs_unknown": (
        "{source} : le système de coordonnées déclaré « {crs} » est inconnu de PROJ ; donnez "
        "un code EPSG comme EPSG:2154 (Lambert-93) ou EPSG:4326 (WGS84)"
    ),
    "layer_kind_unknown": "{source} : type de couche inconnu « {kind} » ; attendu : {expected}",
    "layer_grid_overlaps": "{source} : des carreaux de la grille se chevauchent : {squares}",
    "unknown_communes": "code(s) commune inconnu(s) : {codes}",
    # -- accounts, layers, plans, reports ---------------------------------------------------
    "unknown_ids": "{what}(s) inconnu(s) : {ids}",
    "plan_not_working_copy": (
        "le plan n° {plan_id} est « {status} », pas une copie de travail : modifiez une copie "
        "de travail de ce plan"
    ),
    "plan_adopted_not_deleted": (
        "le plan n° {plan_id} est le plan adopté de sa CSP : adoptez-en un autre avant de le "
        "supprimer"
    ),
    "plans_not_comparable": (
        "le plan n° {other_id} ({other_grid}) ne se compare pas au plan n° {plan_id} "
        "({plan_grid}) : comparez des plans de la même CSP et de la même grille"
    ),
    "all_sectors_locked": (
        "tous les secteurs{plan} sont verrouillés ; déverrouillez-en pour ré-optimiser"
    ),
    "name_required": "un nom est nécessaire",
    "layer_name_taken": "une couche nommée « {name} » existe déjà",
    "account_exists": "un compte existe déjà pour {email}",
    "account_not_found": "aucun compte pour « {account} »",
    "token_name_length": "un jeton a besoin d'un nom de 1 à 100 caractères",
    "time_zone_needed": "précisez le fuseau horaire (par ex. 2027-01-31T00:00Z)",
    "expiry_past": "le {when} est déjà passé",
    "page_limit": "entre 1 et {limit}, reçu {got}",
    "page_offset": "au moins 0, reçu {got}",
    "report_sector_needs_csp": "indiquez aussi la CSP du secteur",
    "units_not_in_plan": "unité(s) absente(s) du plan : {units}",
    "edit_empties_sector": "la modification laisserait « {name} » sans aucune unité",
    "export_extension_unknown": (
        "{name} : extension inconnue {suffix} (extensions possibles : {known})"
    ),
    "export_crs_not_offered": "EPSG:{crs} n'est pas proposé (EPSG:4326 ou EPSG:2154)",
    "period_too_long": "la période dure au plus {days} jours",
    "period_start_after_end": "le début ({since}) suit la fin ({until})",
    "date_too_early": "le {day} est trop ancien",
    "periods_overlap": (
        "la période précédente (jusqu'au {until}) doit finir avant la période étudiée "
        "(à partir du {since}) : les périodes se chevauchent"
    ),
    "study_area_empty": "la zone étudiée est vide",
    "study_too_many_cells": (
        "à la résolution {res}, la zone serait découpée en plus de {cells} cellules ; "
        "choisissez une résolution plus grossière"
    ),
    "periods_at_least_one_day": "chaque période dure au moins un jour",
    # -- territory and address files -------------------------------------------------------
    "bano_unreadable": "{name} : CSV BANO illisible (sans en-tête, colonnes {columns}) : {reason}",
    "ban_unreadable": (
        "{name} : ni un CSV BAN lisible (texte UTF-8, une ligne d'en-tête, colonnes {columns}) "
        "ni un CSV BANO (sans en-tête, colonnes {bano_columns}) : {reason}"
    ),
    "addresses_none": "{name} : aucune adresse dans le fichier",
    "addresses_bad_commune_code": (
        "{name} : ligne {row} : « {code} » n'est pas un code commune INSEE"
    ),
    "addresses_too_long": "{name} : ligne {row} : l'adresse dépasse {limit} caractères",
    "addresses_column_too_long": "{name} : ligne {row} : {column} dépasse {limit} caractères",
    "csp_code_impossible": "impossible de faire un code à partir de « {text} »",
    "csp_needs_communes": "une CSP a besoin d'au moins une commune",
    "csp_code_taken": "« {code} » est déjà le code de la CSP « {name} »",
    "file_columns_expected": "{name} : colonnes attendues {expected}, trouvées {found}",
    "points_outside_territory": (
        "le point [{lon}, {lat}] (longitude, latitude) est hors du territoire ({count} point(s) "
        "en tout)"
    ),
    # -- the command line (psq) ------------------------------------------------------------
    "cli_rows_refused": "{count} ligne(s) fautive(s) : rien n'a été importé",
    "cli_csp_unknown": "CSP inconnue : « {csp} » (voir « psq csp list »)",
    "cli_weight_format": "--weight attend VARIABLE=NOMBRE, reçu « {item} »",
    "cli_units_format": "--units attend h3 ou blocks, reçu « {units} »",
    "cli_counts_format": "--secteurs-par-partie : « {text} » n'est pas une liste d'entiers",
    "cli_batch_failures": "{failed} CSP en échec sur {total}",
    # -- problem files ------------------------------------------------------------------------
    "file_rows_refused": (
        "{count} erreur(s) dans {total} ligne(s), rien n'a été importé ; la première : "
        "ligne {row}, {column} : {reason}"
    ),
    "file_neither_csv_nor_geojson": "« {name} » n'est ni un CSV ni un GeoJSON",
    "csv_unreadable": (
        "CSV illisible (une ligne d'en-tête, puis une ligne par problématique) : {reason}"
    ),
    "csv_too_many_columns": (
        "{count} colonnes : au plus {most} (la catégorie, l'intitulé, la date, la position…)"
    ),
    "file_no_position_columns": (
        "ni colonnes lon/lat ni colonne wkt (colonnes trouvées : {found})"
    ),
    "geojson_unreadable": "GeoJSON illisible ({reason})",
    "file_columns_missing": "colonne(s) manquante(s) : {missing} (colonnes trouvées : {found})",
    "addresses_outside": (
        "{count} adresse(s) sur {total} hors du territoire (les communes de la base, à "
        "{tolerance} m près) ; rien n'a été importé ; première : ligne {line} du fichier — "
        "{reason}"
    ),
    "row_not_wkt": "pas du WKT : « {text} »",
    "row_not_numbers": "nombres attendus : « {lon} », « {lat} »",
    "row_too_long": "plus de {limit} caractères",
    "row_empty": "vide",
    "row_not_a_date": "date AAAA-MM-JJ attendue : « {value} »",
    "row_no_position": "aucune position",
    "row_not_point_line_polygon": "un « {kind} » n'est ni un point, ni une ligne, ni un polygone",
    "file_too_large": (
        "fichier trop volumineux ; au plus {megabytes} Mo pour ce type d'envoi ({kind})"
    ),
    "body_too_large": ("trop volumineux ; au plus {megabytes} Mo pour ce type d'envoi ({kind})"),
}
assert not MESSAGES.keys() & MORE_MESSAGES.keys(), "a code written twice"
MESSAGES |= MORE_MESSAGES

#: A plan's status in words: the messages', the printed sheet's and the pages'.
PLAN_STATUS_WORDS: dict[str, str] = {
    "adopted": "adopté",
    "draft": "brouillon",
    "archived": "archivé",
    "editing": "en cours de modification",
}

#: A request or domain field → its name in words, for the messages and the pages.
FIELD_LABELS: dict[str, str] = {
    "address": "Adresse",
    "commune_code": "Commune",
    "contact_email": "Adresse e-mail de contact",
    "contact_name": "Nom du contact",
    "contact_phone": "Téléphone de contact",
    "contact_role": "Fonction du contact",
    "desired_from": "Début de la période souhaitée",
    "desired_to": "Fin de la période souhaitée",
    "need": "Besoin",
    "site": "Site",
    "site_name": "Nom du site",
    "kind": "Type d'étude",
    "geometry": "Emplacement sur la carte",
    "category": "Catégorie",
    "title": "Intitulé",
    "description": "Description",
    "reported_on": "Date du signalement",
    "priority": "Priorité",
    "partner_id": "Partenaire",
    "lead_partner_id": "Partenaire pilote",
    "start_on": "Date de début",
    "due_on": "Échéance",
    "status": "Statut",
    "on": "Date",
    "planned_on": "Date prévue",
    "referent_id": "Référent",
    "reason": "Motif",
    "recommendations": "Préconisations",
    "k": "Nombre de secteurs",
    "tolerance": "Écart de charge admis",
    "whole_commune_population": "Communes jamais coupées sous (habitants)",
    "resolution": "Grille",
    "seed": "Graine aléatoire",
    "seeds": "Points d'ancrage des secteurs",
    "weights": "Pondérations de la charge",
    "email": "Adresse e-mail",
    "password": "Mot de passe",
    "phone": "Téléphone",
    "file": "Fichier",
    "body": "Corps de la requête",
    "coordinates": "Coordonnées",
    "username": "Adresse e-mail",
    "name": "Nom",
    "objectives": "Objectifs",
    "signatories": "Signataires",
    "cadence_days": "Périodicité",
    "with": "Plan à comparer",
    "cells": "Cellules",
    "expires_at": "Date d'expiration",
    "lon": "Longitude",
    "lat": "Latitude",
    "whole_commune": "Toute la commune",
    "role": "Rôle",
    "gpo": "GPO",
    "csp": "CSP",
    "commune": "Commune",
    "gpos": "GPO",
    "csps": "CSP",
    "communes": "Communes",
}
assert not FIELD_LABELS.keys() & MORE_FIELD_LABELS.keys(), "a field label written twice"
FIELD_LABELS |= MORE_FIELD_LABELS


def field_label(field: str) -> str:
    """A field in words: its label, else its last part's, else the field as given."""
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    last = field.rsplit(".", 1)[-1]
    return FIELD_LABELS.get(last, field)


def placeholders(template: str) -> list[str]:
    """The names a template takes: ``placeholders("{a} et {b}") == ["a", "b"]``."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def french(value: object) -> str:
    """A value written the French way: ``10 000`` (narrow no-break space), ``2,5``, a
    list joined by commas (the first ten, then a count of the rest).

    >>> french(10000), french(2.5), french(["a", "b"]), french(3.0)
    ('10\\u202f000', '2,5', 'a, b', '3')
    """
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        if not math.isfinite(value):
            return "∞" if value > 0 else ("-∞" if value < 0 else "NaN")
        if value == int(value) and abs(value) < 1e15:
            return french(int(value))
        return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k} : {french(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        items = [french(v) for v in value]
        shown = ", ".join(items[:10])
        return shown + (f" … (+{len(items) - 10})" if len(items) > 10 else "")
    return str(value)


def render(code: str, /, **values: object) -> str:
    """The French sentence of ``code`` with its ``values``.

    >>> render("date_in_future", day="16/06/2026")
    'le 16/06/2026 est dans le futur'
    >>> render("not_found_by_id", what="CSP", row_id=4242)
    'introuvable : CSP n° 4242 (ou hors de votre périmètre)'
    """
    # An identifier (``plan_id``…) is a number but not a quantity: no thousands separator.
    return MESSAGES[code].format_map(
        {k: str(v) if k.endswith("_id") else french(v) for k, v in values.items()}
    )
