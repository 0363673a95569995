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
    "h3_resolution_range": "les résolutions H3 vont de {low} à {high}, reçu {value}",
    "grid_too_many_cells": (
        "à la résolution {resolution}, la grille compterait environ {estimate} cellules, plus "
        "que les {budget} permises ; choisissez une résolution plus basse (9 : environ 0,1 km² "
        "par cellule)"
    ),
    "exact_solver_missing": (
        "le calcul exact de la couverture maximale demande le solveur HiGHS : "
        "pip install 'highspy>=1.7' (ou choisissez method='greedy')"
    ),
    # -- dates, periods, conventions, meetings --------------------------------------------
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
    # -- warnings of a layer import (Layer.warnings) ---------------------------------------
    "warning_crs_overridden": (
        "système de coordonnées déclaré {declared} utilisé à la place de celui du fichier ({found})"
    ),
    "warning_geometries_repaired": "{count} géométrie(s) invalide(s) réparée(s) : {features}",
    "warning_grid_column_missing": "pas de colonne {variable} ({columns})",
    "warning_features_outside": "{outside} objet(s) sur {total} hors du territoire",
}
