"""The second half of the message catalogue (:data:`geo.messages.MESSAGES` takes them in):
the sector design's, the OGC API's, the conventions', the calendar's and the batch files'
refusals, and the warnings of a layer import. Same rules as :mod:`geo.messages`: stable
snake_case codes, French sentences with named placeholders only."""

from __future__ import annotations

MORE_MESSAGES: dict[str, str] = {
    # -- sector design ----------------------------------------------------------------------
    "sectors_at_least_one": "au moins un secteur est nécessaire, reçu {k}",
    "value_not_positive": "doit être strictement positif, reçu {value}",
    "value_negative": "doit être positif ou nul, reçu {value}",
    "tolerance_out_of_range": "doit être entre 0 (inclus) et 1 (exclu), reçu {value}",
    "target_workload_too_small": (
        "{target} par secteur donnerait plus de secteurs que les {units} unités du territoire"
    ),
    "more_sectors_than_units": "{k} secteurs, c'est plus que les {units} unités du territoire",
    "more_sectors_than_communes": (
        "{k} secteurs demandés, mais le territoire n'a que {groups} communes (ou groupes "
        "d'unités) et chacune reste entière dans cette méthode : diminuez le nombre de "
        "secteurs ou choisissez une méthode qui coupe les communes"
    ),
    "unit_too_heavy_for_a_sector": (
        "{count} unité(s) de la grille pèse(nt) à elle(s) seule(s) plus qu'un secteur "
        "(jusqu'à {load}) ; la charge d'un secteur doit rester entre {low} et {high} "
        "(±{tolerance} %). Choisissez une grille plus fine, moins de secteurs ou un écart "
        "de charge admis plus grand"
    ),
    "units_unknown": "unité(s) inconnue(s) : {units}",
    "seeds_same_unit": (
        "deux points d'ancrage tombent dans la même unité {unit} : ils ne peuvent pas "
        "commencer deux secteurs différents"
    ),
    "seeds_same_group": (
        "deux points d'ancrage tombent dans les unités {first} et {second} de {group}, gardée "
        "entière : ils ne peuvent pas commencer deux secteurs différents"
    ),
    "locked_unit_out_of_range": "l'unité {unit} est fixée au secteur {sector}, hors de 0 … {last}",
    "locked_unit_held": (
        "l'unité {unit} est fixée au secteur {sector}, mais son groupe ({group}) est déjà au "
        "secteur {other}"
    ),
    "locked_not_contiguous": (
        "les unités fixées au secteur {sector} ne peuvent pas former un secteur d'un seul "
        "tenant : {groups} groupe(s) en sont séparés par des unités fixées à d'autres secteurs"
    ),
    "locked_two_parts": (
        "le secteur {sector} a des unités fixées dans deux parties séparées du territoire "
        "({first} et {second})"
    ),
    "territory_disconnected": (
        "le territoire n'est pas d'un seul tenant : {groups} groupe(s) d'unités ne sont "
        "atteints par aucun secteur"
    ),
    "sector_out_of_range": "le secteur {sector} n'existe pas (secteurs 0 … {last})",
    "sector_locked": "« {name} » (secteur {sector}) est verrouillé ; déverrouillez-le d'abord",
    "sectors_per_part_at_least_one": "chaque partie du territoire a au moins un secteur",
    "sectors_per_part_sum": "{parts} = {total} secteurs, mais le nombre de secteurs est {k}",
    "sectors_per_part_count": (
        "le territoire a {count} parties qui portent des secteurs, {given} nombre(s) donné(s)"
    ),
    "part_too_many_fixed": (
        "la partie {part} a {fixed} secteurs fixés (graines ou unités verrouillées) pour "
        "{sectors} secteur(s) ; changez la répartition des secteurs entre les parties"
    ),
    "parts_more_than_k": (
        "{k} secteur(s) pour {parts} parties séparées du territoire ; il en faut au moins un "
        "par partie"
    ),
    "units_without_sector": "des unités n'ont pas de secteur",
    "units_duplicate_ids": "identifiants d'unité en double : {ids}",
    "tile_zoom_out_of_range": "niveau de zoom {z} hors de {low} à {high}",
    "tile_out_of_grid": "{value} hors de la grille du niveau {z} (0 à {last})",
    "h3_resolution_range": "les résolutions H3 vont de {low} à {high}, reçu {value}",
    "grid_too_many_cells": (
        "à la résolution {resolution}, la grille compterait environ {estimate} cellules, plus "
        "que les {budget} permises ; choisissez une résolution plus basse (9 : environ 0,1 km² "
        "par cellule)"
    ),
    "map_too_many_cells": (
        "à la résolution {res}, la carte compterait environ {estimate} cellules, plus que "
        "les {budget} permises ; choisissez une résolution plus grossière ou une zone plus "
        "petite (un GPO plutôt que la CSP)"
    ),
    "heat_too_many_cells": (
        "avec une largeur de bande de {bandwidth} m, la densité serait calculée sur "
        "{estimate} mailles, plus que les {budget} permises ; choisissez une largeur de "
        "bande d'au moins {minimum} m environ, ou laissez la valeur par défaut"
    ),
    "exact_solver_missing": (
        "le calcul exact de la couverture maximale demande le solveur HiGHS : "
        "pip install 'highspy>=1.7' (ou choisissez method='greedy')"
    ),
    # -- dates, periods, conventions, meetings --------------------------------------------
    "psq_today_not_a_date": "« {value} » n'est pas une date AAAA-MM-JJ",
    "database_url_missing": (
        "aucune base de données configurée : définissez DATABASE_URL (postgresql://…) "
        "ou lancez « psq serve », qui démarre la base locale"
    ),
    "end_before_start": "la fin ({end}) précède le début ({start})",
    "end_without_start": "une fin sans date de début",
    "datetime_needs_zone": "une date et heure avec fuseau horaire est attendue",
    "signature_after_start": (
        "la signature du {signatory} ({signed_on}) est postérieure au début ({start_on})"
    ),
    "convention_draft_not_denounced": "une convention en projet ne se dénonce pas",
    "convention_already_denounced": "la convention a déjà été dénoncée le {day}",
    "denounced_before_start": "le {day} précède le début ({start_on})",
    "convention_ended": "la convention a pris fin le {day}",
    "csi_needs_commune": "un contrat porte sur au moins une commune",
    "too_many_communes": "au plus {limit} communes",
    "meeting_before_gpo": "le {day} précède la création du GPO ({created})",
    "meeting_too_far": "le {day} est à plus d'un an ; planifiez une date plus proche",
    "ics_method": "« {value} » n'est ni REQUEST ni CANCEL",
    # -- the OGC API and its filters -------------------------------------------------------
    "filter_empty": "filtre vide",
    "ogc_crs_not_offered": "SRC « {uri} » non proposé ({offered})",
    "bbox_not_numbers": "« {text} » n'est pas une liste de 4 nombres séparés par des virgules",
    "bbox_count": "4 (ou 6) nombres finis attendus, « {text} » reçu",
    "bbox_south_north": "le bord sud est au nord du bord nord",
    "bbox_antimeridian": "une boîte qui franchit l'antiméridien n'est pas acceptée",
    "datetime_unreadable": "« {text} » n'est pas une date (AAAA-MM-JJ ou RFC 3339) ni « .. »",
    "date_invalid": "« {text} » n'est pas une date valide",
    "datetime_open_bound": "« .. » n'est permis qu'aux bornes d'un intervalle",
    "interval_start_after_end": "le début de l'intervalle est après sa fin",
    "sortby_property_expected": "« {text} » : un nom de propriété est attendu",
    "sortby_property_twice": "« {name} » nommée deux fois",
    # -- batch and data files --------------------------------------------------------------
    "batch_format_unknown": "{source} : format inconnu ; attendu un fichier .csv, .json ou .yaml",
    "batch_no_csp": "{source} : aucune CSP listée",
    "batch_csp_twice": "{source} : CSP listée deux fois : {names}",
    "batch_row_not_mapping": (
        "{source}, CSP {number} : une CSP est une ligne avec des champs nommés"
    ),
    "batch_row_no_name": "{source}, CSP {number} : nom manquant (colonne name)",
    "batch_row_not_number": "{source}, CSP {number} ({name}) : {column} n'est pas un nombre",
    "batch_row_k_or_target": (
        "{source}, CSP {number} ({name}) : donnez k ou target_workload (un seul des deux)"
    ),
    "addresses_not_wgs84": (
        "{name} : ligne {row} : lon/lat {lon}, {lat} ne sont pas des coordonnées WGS84 (degrés)"
    ),
    "file_columns_missing_named": "{name} : colonne(s) manquante(s) : {missing}",
    # -- the app: access, backups, settings -----------------------------------------------
    "access_role_refused": (
        "Accès refusé : votre rôle ({role}) ne permet pas cette opération (réservée à : {allowed})."
    ),
    "csrf_foreign_origin": "Requête refusée : elle ne provient pas d'une page de l'application.",
    "csrf_token_missing": (
        "Requête refusée : jeton anti-CSRF absent ou invalide. Rechargez la page et réessayez."
    ),
    "minutes_printing_unavailable": "l'impression des comptes rendus n'est pas installée ici",
    "job_past_deadline": (
        "délai dépassé : la tâche a travaillé plus de {minutes} min (PSQ_JOB_DEADLINE_MINUTES) "
        "; réduisez le nombre de secteurs ou choisissez une résolution moins fine"
    ),
    "job_already_finished": "la tâche n° {job_id} est déjà terminée ({ending})",
    "backup_tool_missing": (
        "{name} introuvable : installez les outils clients de PostgreSQL (Debian : apt-get "
        "install postgresql-client) ou indiquez PSQ_PG_BINDIR"
    ),
    "backup_tool_failed": "{what} a échoué ({returncode}) : {said}",
    "backup_file_is_directory": "{file} est un dossier ; donnez un nom de fichier",
    "backup_file_missing": "{file} n'existe pas ou n'est pas un fichier",
    "backup_not_a_dump": (
        "{file} n'est pas une sauvegarde de « psq db backup » (format personnalisé de pg_dump)"
    ),
    "restore_target_not_empty": (
        "la base de destination n'est pas vide ({count} table(s) : {tables}) ; restaurez dans "
        "une base vide, ou ajoutez --remplacer pour remplacer son contenu"
    ),
    "url_scheme_unknown": "schéma « {scheme} » inconnu (attendu : {expected})",
    "url_host_missing": "nom d'hôte manquant",
    "url_port_invalid": "port invalide",
    "sms_url_expected": "une adresse http:// ou https:// de la passerelle SMS est attendue",
    "territory_missing": (
        "aucune commune dans la base ; importez d'abord le territoire (psq import-territory)"
    ),
    # -- grids and plans --------------------------------------------------------------------
    "grid_missing": (
        "aucune grille de résolution {resolution} pour la CSP n° {csp_id} : construisez-la "
        "d'abord (psq grid build, ou POST /api/csp/{csp_id}/grids)"
    ),
    "blocks_grid_missing": (
        "aucune grille d'îlots (unités {units}) de résolution {resolution} pour la CSP n° "
        "{csp_id} : construisez-la d'abord (psq grid build --units blocks, ou POST "
        "/api/csp/{csp_id}/grids avec units blocks)"
    ),
    "csp_without_grid": (
        "la CSP n° {csp_id} n'a pas de grille : construisez-en une d'abord (psq grid build)"
    ),
    "plan_being_edited": (
        "le plan n° {plan_id} est une copie de travail en cours de modification : "
        "enregistrez-le d'abord comme version"
    ),
    "plan_changed_redo": (
        "le plan n° {plan_id} a été modifié entre-temps (version {stored}, vous aviez la "
        "version {expected}) : rechargez-le et refaites votre modification"
    ),
    "plan_changed_reload": (
        "le plan n° {plan_id} a été modifié entre-temps (version {stored}, vous aviez la "
        "version {expected}) : rechargez-le avant de le supprimer"
    ),
    "adoption_override_reason": (
        "ce plan enfreint {count} contrainte(s) ({constraints}) ; donnez le motif de la "
        "dérogation (au moins {limit} caractères)"
    ),
    "adoption_plan_changed": (
        "un autre plan a été adopté entre-temps pour cette CSP (plan adopté : {current}, "
        "attendu : {expected}) ; rechargez l'aperçu de l'adoption"
    ),
    # -- GPO, meetings, actions, accounts ---------------------------------------------------
    "sectors_not_in_adopted_plan": "{sectors} ne sont pas des secteurs du plan adopté",
    "sectors_no_adopted_plan": (
        "{sectors} ne sont pas des secteurs du plan adopté (aucun plan n'est adopté)"
    ),
    "gpo_categories_thematic_only": (
        "seul un GPO thématique a des catégories ; un GPO de secteur traite toutes les "
        "problématiques de son secteur"
    ),
    "gpo_sector_single": (
        "un GPO de secteur suit son secteur ; seul un GPO thématique en couvre plusieurs"
    ),
    "gpo_choose_yours": "choisissez l'un de vos GPO (n° {numbers})",
    "gpo_outside_csp": "le GPO n° {gpo_id} n'appartient pas à cette CSP",
    "gpo_inactive_named": "le {gpo} est inactif (son secteur a disparu)",
    "meeting_partners_not_in_gpo": (
        "les partenaires n° {numbers} ne siègent pas au {gpo} ; ajoutez-les d'abord à sa "
        "composition"
    ),
    "meeting_frozen": "la réunion du {day} est {state} ; elle ne se modifie plus",
    "meeting_problem_not_followed": (
        "la problématique n° {problem_id} n'est pas suivie par le {gpo}"
    ),
    "meeting_not_yet_held": "la réunion est prévue le {day} ; elle se clôt une fois tenue",
    "meeting_no_minutes": "la réunion du {day} n'a pas de compte rendu : elle n'est pas close",
    "nothing_to_change": "rien à modifier",
    "date_required": "la date est obligatoire",
    "lead_partner_needed": "choisissez le partenaire pilote",
    "action_led_by_other": (
        "Cette action est pilotée par un autre partenaire : seul son pilote la met à jour."
    ),
    "action_nothing_to_record": (
        "rien à enregistrer (ni nouvel état, ni nouvelle échéance, ni commentaire)"
    ),
    "action_step_before_last": "le {day} précède la dernière étape de l'action ({last})",
    "action_due_before_action_start": (
        "l'échéance du {due_on} précède le début de l'action ({start_on})"
    ),
    "partner_not_in_account_csp": (
        "aucun partenaire n° {partner_id} dans la CSP des GPO du compte"
    ),
    "partner_account_only": (
        "un compte partenaire représente une organisation partenaire (son identifiant), et "
        "seul un compte partenaire en représente une (rôle {role})"
    ),
    "account_self_deactivation": "un compte ne peut pas se désactiver lui-même",
    "alert_preferences_account_only": (
        "Accès refusé : les préférences d'alerte sont celles d'un compte"
    ),
    "alert_outside_csp": (
        "le point choisi est hors de la circonscription de {csp_name} : placez l'intervention "
        "sur son territoire"
    ),
    "communes_unknown_or_no_csp": "commune(s) inconnue(s) ou hors de toute CSP : {codes}",
    "communes_outside_perimeter": "commune(s) hors de votre périmètre : {codes}",
    "study_request_no_document": "la demande n° {request_id} n'a pas de document",
    # -- notifications, OGC API, exports ---------------------------------------------------
    "length_between": "de {low} à {high} caractères",
    "attachment_name_invalid": "nom de fichier invalide « {value} »",
    "attachment_type_invalid": "type de contenu invalide « {value} »",
    "at_least_one_attempt": "au moins 1, reçu {got}",
    "format_unknown": "format « {value} » inconnu ({expected})",
    "ogc_collection_unknown": "aucune collection « {collection} »",
    "ogc_feature_unknown": "aucun objet « {feature} » dans la collection « {collection} »",
    "ogc_properties_unknown": "« {names} » inconnue(s) de cette collection ({known})",
    "ogc_filter_lang": "« {value} » non pris en charge (seul cql2-text l'est)",
    "ogc_no_dates": "cette collection n'a pas de date",
    "cql_property_type": "la propriété « {name} » se compare à {expected}, pas à « {value} »",
    "cql_property_unknown": "propriété « {name} » inconnue de cette collection ({known})",
    "cql_intersects_geometry": (
        "S_INTERSECTS porte sur la géométrie (« geometry »), pas sur « {name} »"
    ),
    "cql_like_text": "LIKE porte sur un texte, « {name} » n'en est pas un",
    "cql_types_differ": "« {left} » et « {right} » ne sont pas du même type",
    "export_too_many": (
        "{count} problématiques correspondent à ces filtres, l'export en compte {limit} au "
        "plus ; resserrez les filtres (période, GPO, secteur, catégorie, statut ou recherche)"
    ),
    # -- request heads the HTTP server refuses (api.http_server) ------------------------------
    "http_request_invalid": (
        "requête HTTP illisible (ligne de requête ou en-têtes mal formés) ; vérifiez "
        "l'adresse et les en-têtes envoyés"
    ),
    "http_header_timeout": (
        "en-têtes de la requête non reçus en {seconds} s : connexion fermée ; réessayez"
    ),
    "http_url_too_long": (
        "adresse (URL) trop longue : plus de "
        "{limit} octets ; raccourcissez les paramètres de l'adresse"
    ),
    "http_header_too_large": (
        "en-têtes de la requête trop volumineux : plus de {limit} octets (cookies, "
        "en-têtes ajoutés) ; supprimez les cookies de ce site ou les en-têtes superflus"
    ),
    # -- warnings of a layer import (Layer.warnings) ---------------------------------------
    "warning_crs_overridden": (
        "système de coordonnées déclaré {declared} utilisé à la place de celui du fichier ({found})"
    ),
    "warning_geometries_repaired": "{count} géométrie(s) invalide(s) réparée(s) : {features}",
    "warning_grid_column_missing": "pas de colonne {variable} ({columns})",
    "warning_features_outside": "{outside} objet(s) sur {total} hors du territoire",
}


#: The fields of the pages' forms in words (merged into ``geo.messages.FIELD_LABELS``):
#: a refusal's summary names its field with them.
MORE_FIELD_LABELS: dict[str, str] = {
    "res": "Résolution des cellules",
    "bandwidth": "Largeur de bande",
    "quartier": "Quartier",
    "quartier_geom": "Tracé du quartier",
    "end_on": "Date de fin",
    "signed_on": "Date de signature",
    "denounced_on": "Date de dénonciation",
    "referents": "Référents",
    "note": "Note",
    "intercommunalite": "Intercommunalité",
    "commune_codes": "Communes",
    "channels": "Canaux d'alerte",
    "natures": "Natures",
    "quiet_from": "Début des heures de silence",
    "quiet_to": "Fin des heures de silence",
    "occurred_at": "Date et heure",
    "nature": "Nature",
    "place": "Lieu",
    "held_on": "Date de la réunion",
    "starts_at": "Heure",
    "invited_partner_ids": "Partenaires invités",
    "partner_ids": "Partenaires",
    "organisation": "Organisation",
    "contact": "Contact",
    "type": "Type",
    "theme": "Thème",
    "sectors": "Secteurs",
    "categories": "Catégories",
    "chief_grade": "Grade du chef",
    "chief_name": "Nom du chef",
    "chief_contact": "Contact du chef",
    "deputy_grade": "Grade de l'adjoint",
    "deputy_name": "Nom de l'adjoint",
    "problem_id": "Problématique",
    "text": "Texte de la décision",
    "notes": "Compte rendu",
    "attendees": "Autres participants",
    "represented_by": "Représenté par",
    "comment": "Commentaire",
    "outcome": "Effet constaté",
    "from": "Début de la période",
    "to": "Fin de la période",
    "since": "Début de la période",
    "until": "Fin de la période",
    "active": "Actif",
    "partner": "Organisation représentée",
    "override_reason": "Motif de la dérogation",
    "p": "Nombre de caméras",
    "radius": "Portée (m)",
    # the other keys the audit trail names (its journal shows them in words)
    "csp_id": "CSP",
    "gpo_id": "GPO",
    "action_id": "Action",
    "account_id": "Compte",
    "plan_id": "Plan",
    "from_plan": "Plan d'origine",
    "sector": "Secteur",
    "problems": "Problématiques",
    "steps": "Étapes",
    "version": "Version",
    "sheet": "Fiche",
    "format": "Format",
    "crs": "Système de coordonnées",
    "source": "Source",
    "filename": "Nom du fichier",
    "media_type": "Type de fichier",
    "size": "Taille (octets)",
    "report_bytes": "Taille du rapport (octets)",
    "invited": "Invités",
    "count": "Nombre",
    "alerts": "Alertes",
    "csp_ids": "CSP",
    "gpo_ids": "GPO",
    "start": "Début",
    "end": "Fin",
    "actions": "Actions",
    "partners": "Partenaires",
    "confirmed": "Aperçu de l'adoption confirmé",
    "violations": "Contraintes non respectées",
    "gpos_created": "GPO créés",
    "gpos_retired": "GPO retirés",
    "gpos_continued": "GPO conservés (secteur : GPO)",
    "problems_moving": "Problématiques changeant de GPO",
    "previous_plan_id": "Plan adopté auparavant",
    "origin": "Origine",
    "method": "Méthode",
    "objective": "Objectif",
    "objective_weight": "Part de la distance",
    "time_limit": "Temps maximal (s)",
    "target_workload": "Charge visée par secteur",
    "compactness": "Compacité",
    "commune_cohesion": "Cohésion des communes",
    "barrier_preference": "Préférence pour les barrières",
    "sectors_per_part": "Secteurs par partie du territoire",
    "seed_point_types": "Types de points d'ancrage",
    "locked": "Secteurs verrouillés",
    "locked_sectors": "Secteurs verrouillés",
    "units": "Unités",
    "cell_count": "Nombre de cellules",
    "population": "Population",
    "households": "Ménages",
    "poor_households": "Ménages pauvres",
    "social_housing": "Logements sociaux",
    "moved": "Cellules déplacées",
    "moved_count": "Nombre de cellules déplacées",
    "code": "Code",
    "communes_inserted": "Communes ajoutées",
    "communes_updated": "Communes mises à jour",
    "csp_commune_count": "Communes de la CSP",
    "csp_created": "CSP créée",
    "added": "Ajoutées",
    "removed": "Supprimées",
    "updated": "Mises à jour",
    "replace": "Remplacement complet",
    "duplicate_of": "Doublon de la demande",
    "attendance": "Présences",
    "revoked_at": "Révoqué le",
}
