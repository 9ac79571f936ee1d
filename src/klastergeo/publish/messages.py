"""Every user-visible text of klastergeo's pages, figures and summaries, in Indonesian
(``id``) and English (``en``), and numbers written as each language writes them.

The catalogue :data:`MESSAGES` is grouped by where a text appears (``report``, ``map``,
``site``, ``workbook``, ``figures``) and by what it names (``columns``: table
headers; ``reasons``: why a record was rejected; ``typology``, ``stage`` and
``diagnosis``: the classification's labels; ``models``: model titles and terms). Every
group has the same keys in both languages (a test checks it); :func:`text` returns a
group for a language and :func:`label` one entry, falling back to the key itself for a
name the catalogue does not know (a registry's own column, say).

Numbers: Indonesian writes ``1.234,5`` where English writes ``1,234.5``
(:func:`number`); p-values below 0.001 are written ``< 0,001`` / ``< 0.001``
(:func:`p_value`), never ``0``.

Machine-readable files (CSV, Parquet, GeoPackage, ``summary.json``) keep their column
names and codes in English whatever the language: they are read by programs. Only what
people read in the pages, figures and workbook is translated; the terminal (the run's
summary, log lines and error messages) stays in English, as the command's help does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from klastergeo.errors import ConfigError

__all__ = [
    "LANGS",
    "MESSAGES",
    "cell_text",
    "check_lang",
    "hot_spot_labels",
    "label",
    "number",
    "p_value",
    "significant",
    "text",
    "typology_label",
    "typology_labels",
]

#: The languages of the catalogue.
LANGS = ("id", "en")

_REPORT = {
    "id": {
        "title": "Laporan klaster industri",
        "created": "Dibuat",
        "source": "Sumber data",
        "map": "Peta interaktif",
        "open_map": "Buka peta di halaman penuh",
        "no_map": "Peta tidak dibuat pada proses ini.",
        "quality": "Kualitas data",
        "rejected_by_reason": "Data ditolak menurut alasan",
        "sentra": "Sentra",
        "global": "Autokorelasi spasial global per sektor",
        "classification": "Tabel klasifikasi",
        "figures": "Gambar",
        "method": "Metode dan parameter",
        "method_note": (
            "Sentra: kelompok wilayah bersebelahan yang terspesialisasi (LQ minimum dengan "
            "selang di atas 1, spesialisasi lokal signifikan) dengan jumlah usaha minimum "
            "bersama. Rincian di README klastergeo."
        ),
        "none": "Tidak ada sentra yang ditemukan.",
        "sentra_sentence": (
            "{n} sentra di {k} sektor; yang terbesar {name} ({sector}), {firms} usaha di "
            "{areas} wilayah."
        ),
        "quality_sentence": (
            "{kept} dari {read} baris data dipakai ({share} %); {rejected} ditolak{top}."
        ),
        "top_reason": ", terbanyak karena {reason} ({count})",
        "value_chains": "Rantai nilai: industri terkait di sekitar sentra",
        "value_chains_note": (
            "Industri terkait: sektor yang usahanya lebih sering menjadi tetangga terdekat "
            "usaha sentra daripada pangsanya (koefisien ko-lokasi lokal > 1, p < {alpha}, "
            "paling sedikit {least} usahanya di sekitar sentra), dengan perannya menurut "
            "tabel keterkaitan. Mata rantai yang tidak ada: peran "
            "yang diharapkan tabel itu (tabel bawaan adalah asumsi, bukan data) tetapi "
            "tidak berada di sekitar sentra. Rinciannya di related.csv dan missing_links.csv."
        ),
        "value_chains_more": "{count} sentra lainnya: lihat related.csv dan missing_links.csv.",
        "no_related": "Tidak ada industri lain yang berlokasi bersama sentra ini secara nyata.",
        "missing_heading": "Mata rantai yang tidak ada di sekitarnya:",
        "missing_not_colocated": "{role}: {sector} ada di registri, tetapi tidak di sekitar sentra",
        "missing_not_in_registry": "{role}: {sector} (hampir) tidak ada di registri",
        "missing_too_few_nearby": "{role}: terlalu sedikit usaha {sector} di sekitar sentra",
        "near_misses": (
            "{count} konsentrasi memenuhi sebagian aturan sentra tetapi tidak semuanya "
            "(gagal: {failed}); daftarnya ada di candidates.csv."
        ),
        "global_sentence": (
            "Sebaran usaha mengelompok secara signifikan (Moran's I > 0, p < 0,05) pada "
            "{k} dari {n} sektor; paling kuat pada {sector} (I = {i})."
        ),
        "models": "Model probabilitas klaster",
        "models_sentence": (
            "Model menjelaskan keanggotaan sentra dari ciri usaha ({n} usaha, {positives} di "
            "sentra)."
        ),
        "models_weak": (
            "Model tidak ditampilkan: daya pembedanya lemah (AUC {auc}, di bawah 0,7); "
            "tabelnya tetap ada di folder models/."
        ),
        "fit": (
            "n = {n}; {extra} = {r2}; AUC = {auc}; R2 hitung = {count_r2}; R2 hitung "
            "disesuaikan (Long) = {adjusted}"
        ),
        "not_computed": "Tidak dihitung",
        "not_computed_note": "Statistik berikut tidak terdefinisi untuk data ini:",
        "not_available": "tidak tersedia",
        "columns_used": "Kolom yang dipakai",
        "column_role": "Isi",
        "column_name": "Kolom di berkas",
        "column_unit": "Satuan",
        "unit_converted": "{unit}, diubah ke {stated} ({how})",
        "divided": "dibagi {n}",
        "times": "dikalikan {n}",
        "unit_assumed": "{stated} (judul kolom tanpa satuan: dianggap {stated})",
        "unit_given": "{unit} (diberikan), diubah ke {stated} ({how})",
        "roles_not_found": (
            "Tidak ada kolom untuk: {roles}. Nilainya tidak tersedia (bukan 0) di semua "
            "tabel, peta, buku kerja dan model."
        ),
        "similar_columns": (
            "Kolom {columns} memuat kata-kata {role} dan kata lain, jadi tidak dipakai "
            "sebagai {role}; berikan dengan {flag} bila memang itu kolomnya."
        ),
        "passed_over": "Kolom {columns} juga bisa menjadi {role}; yang dipakai {column}.",
        "predictor_no_column": (
            "{predictor} tidak dipakai dalam model: registri tidak punya kolomnya "
            "(model diestimasi tanpanya)."
        ),
        "predictor_no_values": (
            "{predictor} tidak dipakai dalam model: kolom {column} tidak berisi nilai "
            "(model diestimasi tanpanya)."
        ),
    },
    "en": {
        "title": "Industrial cluster report",
        "created": "Created",
        "source": "Data source",
        "map": "Interactive map",
        "open_map": "Open the map full page",
        "no_map": "No map was drawn in this run.",
        "quality": "Data quality",
        "rejected_by_reason": "Rejected records by reason",
        "sentra": "Sentra",
        "global": "Global spatial autocorrelation per sector",
        "classification": "Classification table",
        "figures": "Figures",
        "method": "Method and parameters",
        "method_note": (
            "Sentra: contiguous groups of specialised areas (a minimum LQ with its interval "
            "above 1, a significant local specialisation) with a minimum number of firms "
            "together. Details in klastergeo's README."
        ),
        "none": "No sentra found.",
        "sentra_sentence": (
            "{n} sentra in {k} sector(s); the largest is {name} ({sector}), {firms} firms in "
            "{areas} area(s)."
        ),
        "quality_sentence": "{kept} of {read} records kept ({share} %); {rejected} rejected{top}.",
        "top_reason": ", most often for {reason} ({count})",
        "value_chains": "Value chains: related industries around the sentra",
        "value_chains_note": (
            "Related industries: sectors whose firms are the sentra firms' nearest "
            "neighbours more often than their share predicts (local co-location quotient "
            "> 1, p < {alpha}, at least {least} of their firms near the sentra), with their "
            "role by the linkage table. Missing links: roles that "
            "table expects (the shipped one is an assumption, not data) that are not near "
            "the sentra. Details in related.csv and missing_links.csv."
        ),
        "value_chains_more": "{count} more sentra: see related.csv and missing_links.csv.",
        "no_related": "No other industry is significantly co-located with this sentra.",
        "missing_heading": "Expected links not nearby:",
        "missing_not_colocated": "{role}: {sector} is in the registry, but not near the sentra",
        "missing_not_in_registry": "{role}: {sector} is (almost) absent from the registry",
        "missing_too_few_nearby": "{role}: too few firms of {sector} near the sentra",
        "near_misses": (
            "{count} concentration(s) met some sentra rules but not all (failed: {failed}); "
            "they are listed in candidates.csv."
        ),
        "global_sentence": (
            "Firms cluster significantly (Moran's I > 0, p < 0.05) in {k} of {n} sectors; "
            "most strongly in {sector} (I = {i})."
        ),
        "models": "Cluster probability models",
        "models_sentence": (
            "The models explain membership of a sentra from firm traits ({n} firms, "
            "{positives} in a sentra)."
        ),
        "models_weak": (
            "Models not shown: they hardly discriminate (AUC {auc}, below 0.7); their tables "
            "are in the models/ folder."
        ),
        "fit": (
            "n = {n}; {extra} = {r2}; AUC = {auc}; count R2 = {count_r2}; adjusted count "
            "R2 (Long) = {adjusted}"
        ),
        "not_computed": "Not computed",
        "not_computed_note": "These statistics are not defined for these data:",
        "not_available": "not available",
        "columns_used": "Columns used",
        "column_role": "Holds",
        "column_name": "Column in the file",
        "column_unit": "Unit",
        "unit_converted": "{unit}, converted to {stated} ({how})",
        "divided": "divided by {n}",
        "times": "times {n}",
        "unit_assumed": "{stated} (no unit in the header: taken as {stated})",
        "unit_given": "{unit} (given), converted to {stated} ({how})",
        "roles_not_found": (
            "No column for: {roles}. Their values are not available (never 0) in every "
            "table, map, workbook and model."
        ),
        "similar_columns": (
            "Column(s) {columns} hold the words of {role} and more, so are not taken as "
            "{role}; pass {flag} if one is."
        ),
        "passed_over": "Column(s) {columns} could also be {role}; {column} was taken.",
        "predictor_no_column": (
            "{predictor} is left out of the models: the registry has no such column (they "
            "are estimated without it)."
        ),
        "predictor_no_values": (
            "{predictor} is left out of the models: column {column} holds no value (they "
            "are estimated without it)."
        ),
    },
}

_MAP = {
    "id": {
        "outline": "Batas wilayah",
        "base_map": "Peta dasar",
        "sentra": "Sentra",
        "spec": "Spesialisasi (titik panas)",
        "gi": "Kepadatan usaha (titik panas Gi*)",
        "lisa": "Klaster LISA (kepadatan)",
        "lq": "Kuosien lokasi (LQ)",
        "firms": "Usaha sektor terpilih (titik)",
        "firms_heat": "Kepadatan usaha (peta panas)",
        "prob": "Probabilitas klaster",
        "hot": "Titik panas",
        "cold": "Titik dingin",
        "HH": "Tinggi-Tinggi",
        "LL": "Rendah-Rendah",
        "LH": "Rendah-Tinggi",
        "HL": "Tinggi-Rendah",
        "sector": "Sektor",
        "firms_n": "Jumlah usaha",
        "workers": "Tenaga kerja",
        "output": "Nilai produksi (Rp juta)",
        "suppressed": "dirahasiakan (kerahasiaan usaha)",
        "not_available": "tidak tersedia",
        "areas": "Wilayah",
        "typology": "Tipologi (Markusen)",
        "stage": "Tahap perkembangan",
        "diamond": "Skor diamond Porter (1-5)",
        "related": "Industri terkait di sekitarnya",
        "missing_links": "Mata rantai yang tidak ada di sekitarnya",
        "related_firms": "Usaha industri terkait (pilih di popup sentra)",
        "show_related": "Tampilkan usahanya di peta:",
        "related_note": "Usaha industri terkait",
        "source": "Sumber",
        "made": "Dibuat",
        "name": "Nama",
        "title": "Sentra industri kecil dan menengah",
        "statistic": "Statistik",
        "search": "Cari",
        "search_hint": "nama desa / wilayah",
        "not_found": "tidak ditemukan",
        "none": "tidak ada",
        "not_sig": "tidak signifikan",
        "lq_note": "kelas tetap; LQ < 1 tidak digambar",
        "prob_note": "rata-rata probabilitas usaha sektor ini di wilayah; < 0,1 tidak digambar",
        "province": "Provinsi",
        "hot_areas": "Wilayah titik panas",
        "open_hint": "Perbesar atau klik provinsi untuk memuat wilayahnya",
        "layers": "Lapisan",
        "zoom_in": "Perbesar",
        "zoom_out": "Perkecil",
        "full_screen": "Layar penuh",
        "exit_full_screen": "Keluar dari layar penuh",
        "lq_interval": "LQ (selang 95%)",
        "prob_lpm": "Probabilitas klaster (LPM)",
        "prob_logit": "Probabilitas klaster (logit)",
        "prob_probit": "Probabilitas klaster (probit)",
        "sentra_id": "ID",
    },
    "en": {
        "outline": "Boundaries",
        "base_map": "Base map",
        "sentra": "Sentra",
        "spec": "Specialisation (hot spots)",
        "gi": "Density of firms (Gi* hot spots)",
        "lisa": "LISA clusters (density)",
        "lq": "Location quotient (LQ)",
        "firms": "Firms of the selected sector (points)",
        "firms_heat": "Firm density (heat map)",
        "prob": "Cluster probability",
        "hot": "Hot spot",
        "cold": "Cold spot",
        "HH": "High-High",
        "LL": "Low-Low",
        "LH": "Low-High",
        "HL": "High-Low",
        "sector": "Sector",
        "firms_n": "Firms",
        "workers": "Workers",
        "output": "Output (Rp million)",
        "suppressed": "confidential (disclosure control)",
        "not_available": "not available",
        "areas": "Areas",
        "typology": "Type (Markusen)",
        "stage": "Development stage",
        "diamond": "Porter diamond score (1-5)",
        "related": "Related industries nearby",
        "missing_links": "Expected links not nearby",
        "related_firms": "Firms of a related industry (chosen in a sentra's popup)",
        "show_related": "Show its firms on the map:",
        "related_note": "Firms of a related industry",
        "source": "Source",
        "made": "Made",
        "name": "Name",
        "title": "Small and medium industry clusters (sentra)",
        "statistic": "Statistic",
        "search": "Find",
        "search_hint": "village / area name",
        "not_found": "not found",
        "none": "none",
        "not_sig": "not significant",
        "lq_note": "fixed classes; LQ < 1 not drawn",
        "prob_note": "mean probability of the sector's firms in the area; < 0.1 not drawn",
        "province": "Province",
        "hot_areas": "Hot-spot areas",
        "open_hint": "Zoom in or click a province to load its areas",
        "layers": "Layers",
        "zoom_in": "Zoom in",
        "zoom_out": "Zoom out",
        "full_screen": "Full screen",
        "exit_full_screen": "Exit full screen",
        "lq_interval": "LQ (95% interval)",
        "prob_lpm": "Cluster probability (LPM)",
        "prob_logit": "Cluster probability (logit)",
        "prob_probit": "Cluster probability (probit)",
        "sentra_id": "ID",
    },
}

_SITE = {
    "id": {
        "created": "Dibuat",
        "source": "Sumber data",
        "sentra": "sentra",
        "firms": "usaha (data bersih)",
        "areas": "wilayah",
        "open_map": "Buka peta",
        "open_report": "Buka laporan",
        "downloads": "Unduh data",
        "figures": "Gambar",
        "embed": "Sematkan peta",
        "embed_note": "Salin kode ini ke halaman web Anda (map.html di folder yang sama):",
        "title": "Sentra industri kecil dan menengah",
    },
    "en": {
        "created": "Created",
        "source": "Data source",
        "sentra": "sentra",
        "firms": "firms (clean records)",
        "areas": "areas",
        "open_map": "Open the map",
        "open_report": "Open the report",
        "downloads": "Downloads",
        "figures": "Figures",
        "embed": "Embed the map",
        "embed_note": "Copy this code into your web page (map.html in the same folder):",
        "title": "Small and medium industry clusters (sentra)",
    },
}

_WORKBOOK = {
    "id": {
        "summary": "Ringkasan",
        "sentra": "Sentra",
        "areas": "Wilayah",
        "global": "Statistik global",
        "models": "Model",
        "rejected": "Data ditolak",
        "item": "Butir",
        "value": "Nilai",
        "too_large": "Tabel terlalu besar untuk lembar kerja ({cells} sel); lihat {file}.",
        "read": "Baris data dibaca",
        "kept": "Baris data dipakai",
        "rejected_n": "Baris data ditolak",
        "repaired": "Baris data diperbaiki",
        "skipped": "Baris bukan usaha dilewati (jumlah, catatan)",
        "level": "Tingkat wilayah",
        "study_area": "Wilayah studi",
        "n_areas": "Jumlah wilayah",
        "n_sentra": "Jumlah sentra",
        "near": "Hampir sentra (candidates.csv)",
        "model": "model",
        "note": "Catatan",
        "cut_cell": " … [dipotong dari {n} karakter; teks utuh di {file}]",
        "cut_note": "Sel melebihi batas Excel ({limit} karakter), dipotong: {where}",
        "escaped_note": "Karakter kendali yang tidak dapat disimpan Excel ditulis sebagai "
        "kode seperti \\x0b: {where}",
        "where": "{sheet}, kolom {column}, baris {row}",
    },
    "en": {
        "summary": "Summary",
        "sentra": "Sentra",
        "areas": "Areas",
        "global": "Global statistics",
        "models": "Models",
        "rejected": "Rejected records",
        "item": "Item",
        "value": "Value",
        "too_large": "Table too large for a worksheet ({cells} cells); see {file}.",
        "read": "Records read",
        "kept": "Records kept",
        "rejected_n": "Records rejected",
        "repaired": "Records repaired",
        "skipped": "Rows skipped as not firms (totals, notes)",
        "level": "Area level",
        "study_area": "Study area",
        "n_areas": "Areas",
        "n_sentra": "Sentra",
        "near": "Near misses (candidates.csv)",
        "model": "model",
        "note": "Note",
        "cut_cell": " … [cut from {n} characters; the whole text is in {file}]",
        "cut_note": "Cells over Excel's limit ({limit} characters), cut: {where}",
        "escaped_note": "Control characters Excel cannot hold written as codes such as "
        "\\x0b: {where}",
        "where": "{sheet}, column {column}, row {row}",
    },
}

_FIGURES = {
    "id": {
        "spec": "Spesialisasi",
        "gi": "Kepadatan usaha (Gi*)",
        "lisa": "Klaster LISA kepadatan usaha",
        "lisa_sig": "Signifikansi LISA kepadatan usaha",
        "moran": "Diagram pencar Moran",
        "x": "z (dibakukan)",
        "y": "lag spasial z",
        "outside": "di luar sumbu",
        "not_sig": "Tidak signifikan",
        "HH": "Tinggi-Tinggi",
        "LL": "Rendah-Rendah",
        "LH": "Rendah-Tinggi",
        "HL": "Tinggi-Rendah",
        "stage_line": "tahap: {stage} (skor keseluruhan {overall})",
        "scale": "km",
        "north": "U",
    },
    "en": {
        "spec": "Specialisation",
        "gi": "Density of firms (Gi*)",
        "lisa": "LISA clusters of firm density",
        "lisa_sig": "LISA significance of firm density",
        "moran": "Moran scatterplot",
        "x": "z (standardised)",
        "y": "spatial lag of z",
        "outside": "beyond the axes",
        "not_sig": "Not significant",
        "HH": "High-High",
        "LL": "Low-Low",
        "LH": "Low-High",
        "HL": "High-Low",
        "stage_line": "stage: {stage} (overall {overall})",
        "scale": "km",
        "north": "N",
    },
}

#: Table headers: a column's name in the data -> what a reader sees.
_COLUMNS = {
    "id": {
        "sentra_id": "ID",
        "related_sectors": "Industri terkait di sekitarnya",
        "missing_links": "Mata rantai yang tidak ada di sekitarnya",
        "related_sector": "Industri terkait",
        "role": "Peran",
        "clq": "CLQ",
        "n_related_firms": "Usaha di sekitar sentra",
        "area_code": "Kode wilayah",
        "spec_bin": "Spesialisasi (kelas)",
        "lq_low": "LQ batas bawah",
        "lq_high": "LQ batas atas",
        "name": "Nama",
        "sector": "KBLI",
        "sector_label": "Sektor",
        "n_firms": "Usaha",
        "n_areas": "Wilayah",
        "lq": "LQ",
        "typology_label": "Tipologi",
        "stage": "Tahap",
        "p_cluster": "Probabilitas",
        "read": "Dibaca",
        "kept": "Dipakai",
        "rejected": "Ditolak",
        "repaired": "Diperbaiki",
        "placed_point": "Ditempatkan menurut koordinat",
        "placed_code": "Ditempatkan menurut kode wilayah",
        "placed_name": "Ditempatkan menurut nama wilayah",
        "swapped_coordinates": "Lintang dan bujur tertukar",
        "kbli_leading_zero": "KBLI tanpa nol di depan",
        "area_mismatch": "Titik jauh dari wilayah yang disebut",
        "placed_by_area": "Koordinat tak terpakai, ditempatkan menurut wilayah",
        "skipped": "Dilewati (bukan usaha)",
        "reason": "Alasan",
        "n": "Jumlah",
        "moran_i": "Moran's I",
        "expected": "E[I]",
        "z": "z",
        "p_value": "p",
        "p_norm": "p",
        "queen": "persinggungan sisi atau sudut",
        "rook": "persinggungan sisi",
        "knn": "k tetangga terdekat",
        "auto": "otomatis",
        "hot_spot_areas": "Wilayah titik panas",
        "sentra": "Sentra",
        "term": "Variabel",
        "estimate": "Koefisien",
        "std_error": "Galat baku",
        "statistic": "Statistik uji",
        "conf_low": "Batas bawah 95%",
        "conf_high": "Batas atas 95%",
        "odds_ratio": "Rasio odds",
        "odds_ratio_low": "Rasio odds bawah",
        "odds_ratio_high": "Rasio odds atas",
        "actual": "Aktual",
        "predicted_0": "Prediksi 0 (bagian)",
        "predicted_1": "Prediksi 1 (bagian)",
        "mean_probability": "Rata-rata probabilitas",
        "all": "Semua",
        "const": "Konstanta",
        "parameter": "Parameter",
        "value": "Nilai",
        "step": "Langkah",
        "what": "Statistik",
        "why": "Alasan",
        "level": "Tingkat wilayah",
        "study_area": "Wilayah studi",
        "areas": "Jumlah wilayah",
        "weights": "Pembobot spasial",
        "permutations": "Permutasi",
        "seed": "Benih acak",
        "fdr": "Koreksi FDR",
        "alternative": "Hipotesis alternatif",
        "gi_inference": "Inferensi Gi*",
        "min_firms": "Sentra: usaha minimum",
        "lq_threshold": "Sentra: ambang LQ",
        "confidence": "Sentra: tingkat keyakinan",
        "disclosure_min_firms": "Kerahasiaan: usaha minimum per angka terbit",
        "disclosure_dominance": "Kerahasiaan: aturan dominasi (n usaha terbesar > k %)",
        "dominance_not_applied": "tidak diterapkan: data jumlah usaha per wilayah tidak memuat "
        "nilai tiap usaha",
        "True": "ya",
        "False": "tidak",
        "two-sided": "dua arah",
        "greater": "lebih besar",
        "analytical": "analitis",
        "permutation": "permutasi",
    },
    "en": {
        "related_sectors": "Related industries nearby",
        "missing_links": "Expected links not nearby",
        "related_sector": "Related industry",
        "role": "Role",
        "clq": "CLQ",
        "n_related_firms": "Firms near the sentra",
        "sentra_id": "ID",
        "area_code": "Area code",
        "spec_bin": "Specialisation (class)",
        "lq_low": "LQ low",
        "lq_high": "LQ high",
        "name": "Name",
        "sector": "KBLI",
        "sector_label": "Sector",
        "n_firms": "Firms",
        "n_areas": "Areas",
        "lq": "LQ",
        "typology_label": "Type",
        "stage": "Stage",
        "p_cluster": "Probability",
        "read": "Read",
        "kept": "Kept",
        "rejected": "Rejected",
        "repaired": "Repaired",
        "placed_point": "Placed by coordinates",
        "placed_code": "Placed by area code",
        "placed_name": "Placed by area name",
        "swapped_coordinates": "Latitude and longitude swapped",
        "kbli_leading_zero": "KBLI without its leading zero",
        "area_mismatch": "Point far from the area named",
        "placed_by_area": "Coordinates unusable, placed by area",
        "skipped": "Skipped (not firms)",
        "reason": "Reason",
        "n": "Count",
        "moran_i": "Moran's I",
        "expected": "E[I]",
        "z": "z",
        "p_value": "p",
        "p_norm": "p",
        "queen": "queen contiguity",
        "rook": "rook contiguity",
        "knn": "k nearest neighbours",
        "auto": "automatic",
        "hot_spot_areas": "Hot-spot areas",
        "sentra": "Sentra",
        "term": "Term",
        "estimate": "Estimate",
        "std_error": "Std. error",
        "statistic": "Statistic",
        "conf_low": "95% low",
        "conf_high": "95% high",
        "odds_ratio": "Odds ratio",
        "odds_ratio_low": "Odds ratio low",
        "odds_ratio_high": "Odds ratio high",
        "actual": "Actual",
        "predicted_0": "Predicted 0 (share)",
        "predicted_1": "Predicted 1 (share)",
        "mean_probability": "Mean probability",
        "all": "All",
        "const": "Constant",
        "parameter": "Parameter",
        "value": "Value",
        "step": "Step",
        "what": "Statistic",
        "why": "Why",
        "level": "Area level",
        "study_area": "Study area",
        "areas": "Areas",
        "weights": "Spatial weights",
        "permutations": "Permutations",
        "seed": "Seed",
        "fdr": "FDR correction",
        "alternative": "Alternative hypothesis",
        "gi_inference": "Gi* inference",
        "min_firms": "Sentra: minimum firms",
        "lq_threshold": "Sentra: LQ threshold",
        "confidence": "Sentra: confidence",
        "disclosure_min_firms": "Disclosure control: fewest firms per published sum",
        "disclosure_dominance": "Disclosure control: dominance rule (n largest firms > k %)",
        "dominance_not_applied": "not applied: counts per area do not hold each firm's value",
        "True": "yes",
        "False": "no",
        "two-sided": "two-sided",
        "greater": "greater",
        "analytical": "analytical",
        "permutation": "permutation",
    },
}

#: Why a record was rejected (:data:`klastergeo.io.registry.records.REASONS`).
_REASONS = {
    "id": {
        "malformed_row": "baris rusak",
        "missing_coordinates": "koordinat kosong",
        "zero_coordinates": "koordinat nol",
        "out_of_range": "koordinat di luar jangkauan",
        "outside_study_area": "di luar wilayah studi",
        "unknown_area": "wilayah tidak dikenal",
        "ambiguous_area": "nama wilayah ganda",
        "area_too_coarse": "wilayah terlalu kasar",
        "invalid_sector": "kode sektor tidak sah",
        "invalid_value": "nilai tidak sah",
        "missing_id": "id kosong",
        "duplicate_record": "baris ganda",
        "duplicate_id": "id ganda",
    },
    "en": {
        "malformed_row": "malformed row",
        "missing_coordinates": "missing coordinates",
        "zero_coordinates": "zero coordinates",
        "out_of_range": "coordinates out of range",
        "outside_study_area": "outside the study area",
        "unknown_area": "unknown area",
        "ambiguous_area": "ambiguous area name",
        "area_too_coarse": "area coarser than the unit of analysis",
        "invalid_sector": "invalid sector code",
        "invalid_value": "invalid value",
        "missing_id": "missing id",
        "duplicate_record": "duplicate record",
        "duplicate_id": "duplicate id",
    },
}

#: The sentra rules a near miss failed (:func:`klastergeo.analysis.sentra.near_misses`).
_RULES = {
    "id": {
        "lq": "ambang LQ",
        "lq_interval": "selang LQ",
        "specialisation": "spesialisasi",
        "lq test": "uji LQ",
        "group_firms": "usaha kelompok",
    },
    "en": {
        "lq": "LQ threshold",
        "lq_interval": "LQ interval",
        "specialisation": "specialisation",
        "lq test": "LQ test",
        "group_firms": "group firms",
    },
}

#: Markusen types (:data:`klastergeo.analysis.typology.TYPES`) and how a mixed label reads.
_TYPOLOGY = {
    "id": {
        "marshallian": "Distrik Marshall",
        "hub_and_spoke": "pusat dan jari-jari",
        "satellite_platform": "platform satelit",
        "state_anchored": "bertumpu pada negara",
        "with_traits": "{primary} dengan ciri {others}",
        "and": " dan ",
        "mixed": "Campuran (tidak ada aturan yang terpenuhi)",
        "not_available": "tidak tersedia (tidak ada data kepemilikan)",
    },
    "en": {
        "marshallian": "Marshallian",
        "hub_and_spoke": "hub-and-spoke",
        "satellite_platform": "satellite platform",
        "state_anchored": "state-anchored",
        "with_traits": "{primary} with {others} traits",
        "and": " and ",
        "mixed": "Mixed (no rule holds)",
        "not_available": "not available (no ownership data)",
    },
}

#: Development stages (:mod:`klastergeo.analysis.diagnosis`), as the policy study names them.
_STAGE = {
    "id": {
        "survival": "bertahan",
        "advance": "maju",
        "mature": "matang",
        "unknown": "tidak tersedia",
    },
    "en": {
        "survival": "survival",
        "advance": "advance",
        "mature": "mature",
        "unknown": "not available",
    },
}

#: Porter's-diamond dimensions and items (:data:`klastergeo.analysis.diagnosis.ITEMS`).
_DIAGNOSIS = {
    "id": {
        "factor_conditions": "Kondisi faktor",
        "demand_conditions": "Kondisi permintaan",
        "related_supporting": "Industri terkait & pendukung",
        "strategy_cooperation": "Strategi, persaingan & kerja sama",
        "location": "lokasi",
        "infrastructure": "infrastruktur",
        "environment": "lingkungan",
        "local_economy": "ekonomi lokal",
        "training": "pelatihan",
        "raw_materials": "bahan baku",
        "finance": "pembiayaan",
        "information": "informasi",
        "demand_trend": "tren permintaan",
        "demand_quality": "mutu permintaan",
        "local_inputs": "input lokal",
        "government_support": "dukungan pemerintah",
        "bds": "layanan pengembangan usaha",
        "research": "lembaga penelitian",
        "strategy": "strategi",
        "rivalry": "persaingan",
        "cooperation": "kerja sama",
    },
    "en": {
        "factor_conditions": "Factor conditions",
        "demand_conditions": "Demand conditions",
        "related_supporting": "Related & supporting industries",
        "strategy_cooperation": "Strategy, rivalry & cooperation",
        "location": "location",
        "infrastructure": "infrastructure",
        "environment": "environment",
        "local_economy": "local economy",
        "training": "training",
        "raw_materials": "raw materials",
        "finance": "finance",
        "information": "information",
        "demand_trend": "demand trend",
        "demand_quality": "demand quality",
        "local_inputs": "local inputs",
        "government_support": "government support",
        "bds": "business development services",
        "research": "research institutes",
        "strategy": "strategy",
        "rivalry": "rivalry",
        "cooperation": "cooperation",
    },
}

#: Model titles (:data:`klastergeo.publish.model_tables.TITLES` is the English one).
_MODELS = {
    "id": {
        "lpm": "Model probabilitas linear (OLS, galat baku kokoh)",
        "logit": "Logit",
        "probit": "Probit",
        "in_sentra": "di sentra",
    },
    "en": {
        "lpm": "Linear probability model (OLS, robust SE)",
        "logit": "Logit",
        "probit": "Probit",
        "in_sentra": "in a sentra",
    },
}

#: Descriptions of a run's public downloads on the index page (file -> text).
_DOWNLOADS = {
    "id": {
        "sentra.geojson": "poligon sentra (GeoJSON, EPSG:4326)",
        "sentra.csv": "tabel sentra",
        "sentra_areas.csv": "wilayah anggota tiap sentra dan buktinya",
        "areas.csv": "statistik per wilayah dan sektor (Gi*, LISA, LQ, probabilitas klaster)",
        "global.csv": "Moran's I global per sektor",
        "concentration.csv": "indeks konsentrasi per tingkat wilayah dan sektor",
        "typology.csv": "tipologi Markusen per sentra",
        "diagnosis.csv": "diagnosis diamond Porter per sentra",
        "clark_evans.csv": "indeks tetangga terdekat per sektor dan sentra",
        "summary.json": "ringkasan proses: data, parameter, waktu, versi",
        "firms.geojson": "usaha (hanya bila diterbitkan dengan --with-firms)",
    },
    "en": {
        "sentra.geojson": "sentra polygons (GeoJSON, EPSG:4326)",
        "sentra.csv": "sentra table",
        "sentra_areas.csv": "member areas of each sentra and their evidence",
        "areas.csv": "statistics per area and sector (Gi*, LISA, LQ, cluster probability)",
        "global.csv": "global Moran's I per sector",
        "concentration.csv": "concentration indices per region level and sector",
        "typology.csv": "Markusen typology per sentra",
        "diagnosis.csv": "Porter's-diamond diagnosis per sentra",
        "clark_evans.csv": "nearest-neighbour index per sector and sentra",
        "summary.json": "run summary: records, parameters, timings, versions",
        "firms.geojson": "firms (only when published with --with-firms)",
    },
}

#: A multi-period run's start page (:mod:`klastergeo.app.pipeline.periods`).
_DYNAMICS = {
    "id": {
        "title": "Dinamika sentra industri kecil dan menengah",
        "periods": "Periode",
        "lineages": "Riwayat sentra antarperiode",
        "map": "peta",
        "report": "laporan",
        "lineage_id": "ID",
        "name": "Nama",
        "sector": "KBLI",
        "trend": "Arah",
        "firms": "Usaha",
        "firms_growth": "Perubahan usaha",
        "change": "Perubahan antarperiode",
        "note": (
            "Sentra dua periode berurutan disambung bila sektornya sama dan wilayah "
            "anggotanya beririsan; rinciannya di dynamics.csv dan lineage_links.csv."
        ),
        "indicators": "Indikator per kabupaten/kota",
        "indicators_note": (
            "Kabupaten/kota dan sektor dengan sentra pada salah satu periode; semua "
            "kabupaten/kota dan sektor ada di indicators.csv."
        ),
        "regency": "Kabupaten/kota",
        "workers_change": "Perubahan tenaga kerja",
        "output_change": "Perubahan nilai produksi",
        "investment_change": "Perubahan investasi",
        "emerging": "Titik panas yang muncul (jumlah wilayah per kategori)",
        "emerging_note": (
            "Kategori seperti pada ArcGIS Pro, dari statistik spesialisasi tiap periode dan "
            "uji tren Mann-Kendall; per wilayah di emerging_hot_spots.csv."
        ),
        "category": "Kategori",
        "areas": "Wilayah",
        "none": (
            "Tidak ada sentra pada periode mana pun, jadi tidak ada riwayat sentra untuk "
            "diikuti; hasil tiap periode ada di peta dan laporannya."
        ),
        "downloads": "Unduh data",
        "dynamics.csv": "riwayat sentra antarperiode",
        "lineage_links.csv": "sambungan sentra antarperiode",
        "indicators.csv": "indikator per kabupaten/kota dan sektor, per periode",
        "emerging_hot_spots.csv": "kategori titik panas yang muncul per wilayah dan sektor",
    },
    "en": {
        "title": "Dynamics of small and medium industry clusters (sentra)",
        "periods": "Periods",
        "lineages": "Sentra lineages",
        "map": "map",
        "report": "report",
        "lineage_id": "ID",
        "name": "Name",
        "sector": "KBLI",
        "trend": "Trend",
        "firms": "Firms",
        "firms_growth": "Change in firms",
        "change": "Change between periods",
        "note": (
            "Sentra of consecutive periods are linked when their sector is the same and "
            "their member areas overlap; details in dynamics.csv and lineage_links.csv."
        ),
        "indicators": "Indicators per regency",
        "indicators_note": (
            "Regencies and sectors with a sentra in some period; every regency and sector "
            "is in indicators.csv."
        ),
        "regency": "Regency",
        "workers_change": "Change in workers",
        "output_change": "Change in output",
        "investment_change": "Change in investment",
        "emerging": "Emerging hot spots (areas per category)",
        "emerging_note": (
            "ArcGIS Pro's categories (Emerging Hot Spot Analysis) from each period's "
            "specialisation statistic and a Mann-Kendall trend test; per area in "
            "emerging_hot_spots.csv."
        ),
        "category": "Category",
        "areas": "Areas",
        "none": (
            "No period has a sentra, so there is no sentra lineage to follow; each "
            "period's results are in its map and report."
        ),
        "downloads": "Downloads",
        "dynamics.csv": "sentra lineages across periods",
        "lineage_links.csv": "links between the sentra of consecutive periods",
        "indicators.csv": "indicators per regency and sector, per period",
        "emerging_hot_spots.csv": "emerging hot-spot category per area and sector",
    },
}

#: Lineage trends (:data:`klastergeo.analysis.dynamics.TRENDS`).
_TRENDS = {
    "id": {
        "split": "terpecah",
        "merged": "bergabung",
        "new": "baru",
        "gone": "hilang",
        "growing": "tumbuh",
        "declining": "menurun",
        "stable": "stabil",
    },
    "en": {
        "split": "split",
        "merged": "merged",
        "new": "new",
        "gone": "gone",
        "growing": "growing",
        "declining": "declining",
        "stable": "stable",
    },
}

#: Emerging hot-spot categories (:func:`klastergeo.analysis.dynamics.emerging_hot_spots`).
_EMERGING = {
    "id": {
        "new hot spot": "titik panas baru",
        "new cold spot": "titik dingin baru",
        "consecutive hot spot": "titik panas beruntun",
        "consecutive cold spot": "titik dingin beruntun",
        "intensifying hot spot": "titik panas menguat",
        "intensifying cold spot": "titik dingin menguat",
        "persistent hot spot": "titik panas menetap",
        "persistent cold spot": "titik dingin menetap",
        "diminishing hot spot": "titik panas melemah",
        "diminishing cold spot": "titik dingin melemah",
        "sporadic hot spot": "titik panas sporadis",
        "sporadic cold spot": "titik dingin sporadis",
        "oscillating hot spot": "titik panas berganti-ganti",
        "oscillating cold spot": "titik dingin berganti-ganti",
        "historical hot spot": "titik panas historis",
        "historical cold spot": "titik dingin historis",
        "no pattern": "tidak ada pola",
    },
    "en": {
        "new hot spot": "new hot spot",
        "new cold spot": "new cold spot",
        "consecutive hot spot": "consecutive hot spot",
        "consecutive cold spot": "consecutive cold spot",
        "intensifying hot spot": "intensifying hot spot",
        "intensifying cold spot": "intensifying cold spot",
        "persistent hot spot": "persistent hot spot",
        "persistent cold spot": "persistent cold spot",
        "diminishing hot spot": "diminishing hot spot",
        "diminishing cold spot": "diminishing cold spot",
        "sporadic hot spot": "sporadic hot spot",
        "sporadic cold spot": "sporadic cold spot",
        "oscillating hot spot": "oscillating hot spot",
        "oscillating cold spot": "oscillating cold spot",
        "historical hot spot": "historical hot spot",
        "historical cold spot": "historical cold spot",
        "no pattern": "no pattern",
    },
}

#: What a related industry is to a sentra (:data:`klastergeo.analysis.colocation.ROLES`).
_ROLES = {
    "id": {
        "supplier": "pemasok",
        "buyer": "pembeli",
        "supporting": "pendukung",
        "related": "terkait",
        "co-located": "berdekatan",
    },
    "en": {
        "supplier": "supplier",
        "buyer": "buyer",
        "supporting": "supporting",
        "related": "related",
        "co-located": "co-located",
    },
}

#: What a step that needs the firms' points says when some firms have none (placed by
#: their area's code or name, :func:`klastergeo.app.pipeline.points.with_points`): the
#: steps' names, and the reasons (``{missing}``, ``{total}``: numbers as the language
#: writes them).
_POINTS = {
    "id": {
        "colocation": "ko-lokasi (industri terkait, mata rantai yang hilang)",
        "point_patterns": "pola titik (Ripley K/L, tetangga terdekat)",
        "point_sentra": "sentra dari titik usaha",
        "firm_markers": "penanda usaha di peta",
        "density_grid": "grid kepadatan usaha di peta",
        "some": "{missing} dari {total} usaha ditempatkan menurut kode atau nama wilayah "
        "(tanpa titik koordinat) dan tidak diikutkan; usaha itu tetap dihitung di "
        "wilayahnya",
        "none": "tidak ada usaha yang memiliki titik koordinat: {total} usaha ditempatkan "
        "menurut kode atau nama wilayah",
    },
    "en": {
        "colocation": "co-location (related industries, missing links)",
        "point_patterns": "point patterns (Ripley K/L, nearest neighbour)",
        "point_sentra": "sentra from the firms' points",
        "firm_markers": "firm markers on the map",
        "density_grid": "firm density grid on the map",
        "some": "{missing} of {total} firms placed by area name or code have no point and "
        "are left out; they still count in their area",
        "none": "no firm has a point: all {total} firms are placed by area name or code",
    },
}

#: What each input column role holds (the report's "Columns used").
_INPUT_ROLES = {
    "id": {
        "id": "ID usaha",
        "lat": "Lintang",
        "lon": "Bujur",
        "sector": "KBLI",
        "workers": "Tenaga kerja",
        "output": "Nilai produksi",
        "investment": "Nilai investasi",
        "name": "Nama usaha",
        "area_code": "Kode wilayah",
        "desa": "Desa/kelurahan",
        "kecamatan": "Kecamatan",
        "kabupaten": "Kabupaten/kota",
    },
    "en": {
        "id": "Firm id",
        "lat": "Latitude",
        "lon": "Longitude",
        "sector": "KBLI",
        "workers": "Workers",
        "output": "Production value",
        "investment": "Investment",
        "name": "Firm name",
        "area_code": "Area code",
        "desa": "Village (desa/kelurahan)",
        "kecamatan": "District (kecamatan)",
        "kabupaten": "Regency/city (kabupaten/kota)",
    },
}

#: The catalogue: group -> language -> key -> text.
MESSAGES: dict[str, dict[str, dict[str, str]]] = {
    "report": _REPORT,
    "map": _MAP,
    "site": _SITE,
    "workbook": _WORKBOOK,
    "figures": _FIGURES,
    "columns": _COLUMNS,
    "reasons": _REASONS,
    "points": _POINTS,
    "rules": _RULES,
    "typology": _TYPOLOGY,
    "stage": _STAGE,
    "diagnosis": _DIAGNOSIS,
    "models": _MODELS,
    "downloads": _DOWNLOADS,
    "dynamics": _DYNAMICS,
    "trends": _TRENDS,
    "emerging": _EMERGING,
    "roles": _ROLES,
    "input_roles": _INPUT_ROLES,
}


def check_lang(lang: str) -> str:
    """``lang`` if the catalogue has it, else a :class:`ConfigError` naming the accepted
    ones.

    Parameters
    ----------
    lang
        A language code.
    """
    if lang not in LANGS:
        raise ConfigError(f"lang={lang!r} is not accepted; use one of {list(LANGS)}")
    return lang


def text(group: str, lang: str) -> Mapping[str, str]:
    """The texts of one group of the catalogue in one language.

    Parameters
    ----------
    group
        A key of :data:`MESSAGES` (``report``, ``map``, ...).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> text("report", "id")["title"]
    'Laporan klaster industri'
    """
    return MESSAGES[group][check_lang(lang)]


def label(group: str, key: Any, lang: str) -> str:
    """One entry of the catalogue; the key itself (as text) when the group has none.

    Parameters
    ----------
    group
        A key of :data:`MESSAGES`.
    key
        The entry (a column name, a reason, a stage...).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> label("stage", "advance", "id"), label("columns", "kabupaten", "id")
    ('maju', 'kabupaten')
    """
    return MESSAGES[group][check_lang(lang)].get(str(key), str(key))


_SWAP_MARKS = {ord(","): ".", ord("."): ","}


def cell_text(value: Any) -> str:
    """A table value as text: empty for a missing one (None, NaN, infinity, ``pd.NA``).

    Parameters
    ----------
    value
        A value of a table cell.

    Examples
    --------
    >>> cell_text(None), cell_text(float("nan")), cell_text("31-01")
    ('', '', '31-01')
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return str(value)


def number(value: Any, lang: str, digits: int = 0) -> str:
    """A number as the language writes it: ``1.234,5`` in Indonesian, ``1,234.5`` in
    English; empty for a missing value, text as it is.

    Parameters
    ----------
    value
        The number.
    lang
        ``"id"`` or ``"en"``.
    digits
        Decimals shown.

    Examples
    --------
    >>> number(19164.25, "id", 1), number(19164.25, "en", 1), number(float("nan"), "id")
    ('19.164,2', '19,164.2', '')
    >>> number(-0.004, "id", 2)
    '0,00'
    """
    if isinstance(value, bool):
        return label("columns", str(value), lang)
    return _formatted(value, lang, f",.{digits}f")


def _formatted(value: Any, lang: str, spec: str) -> str:
    """``value`` formatted by ``spec`` with the language's marks; empty when missing,
    text as it is."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(x):
        return ""
    out = format(x, spec)
    if out.startswith("-") and not any(c in "123456789" for c in out.split("e")[0]):
        out = out[1:]  # -0.004 shown with two decimals is 0.00, not -0.00
    return out.translate(_SWAP_MARKS) if lang == "id" else out


def significant(value: Any, lang: str, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (Python's ``g`` format: no
    thousands separator, an exponent for large or tiny numbers), in the language's
    decimal mark.

    Parameters
    ----------
    value
        The number.
    lang
        ``"id"`` or ``"en"``.
    digits
        Significant digits.

    Examples
    --------
    >>> significant(0.012345, "id"), significant(123456.0, "en")
    ('0,01235', '1.235e+05')
    """
    return _formatted(value, lang, f".{digits}g")


def hot_spot_labels(lang: str) -> dict[int, str]:
    """Hot- and cold-spot bins (3 .. -3: 99, 95 and 90 % confidence) as the map and the
    figures name them, strongest hot spot first.

    Parameters
    ----------
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> hot_spot_labels("id")[3], hot_spot_labels("en")[0]
    ('Titik panas 99 %', 'not significant')
    """
    t = text("map", lang)
    confidence = {3: 99, 2: 95, 1: 90}
    return {
        b: f"{t['hot'] if b > 0 else t['cold']} {confidence[abs(b)]} %" if b else t["not_sig"]
        for b in (3, 2, 1, 0, -1, -2, -3)
    }


def p_value(value: Any, lang: str = "en") -> str:
    """A p-value as a reader expects it: three decimals, and ``< 0.001`` below that
    (never ``0``: a p-value is not zero, only smaller than what is shown); the decimal
    mark of the language.

    Parameters
    ----------
    value
        The p-value; NaN gives an empty string.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> [p_value(v) for v in (0.0, 1e-20, 0.00049, 0.0123, 0.5)]
    ['< 0.001', '< 0.001', '< 0.001', '0.012', '0.500']
    >>> p_value(0.0001, "id"), p_value(0.0456, "id")
    ('< 0,001', '0,046')
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return "< " + _formatted(0.001, lang, ".3f") if x < 0.001 else _formatted(x, lang, ".3f")


def typology_label(typology: str, primary: str, traits: str, lang: str) -> str:
    """A sentra's Markusen type as a reader names it (the ``label`` column of
    ``typology.csv``), from :func:`klastergeo.analysis.typology.classify`'s ``typology``,
    ``primary`` and ``traits`` (``;``-joined).

    Parameters
    ----------
    typology, primary, traits
        The classification of one sentra.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> typology_label("mixed", "marshallian", "hub_and_spoke;marshallian", "en")
    'Marshallian with hub-and-spoke traits'
    >>> typology_label("not_available", "", "", "id")[:15]
    'tidak tersedia '
    """
    names = text("typology", lang)
    others_of = [x for x in str(traits).split(";") if x]
    if typology == "not_available":
        return names["not_available"]
    if typology == "mixed" and not others_of:
        return names["mixed"]
    label = names[primary][0].upper() + names[primary][1:]
    others = [names[x] for x in others_of if x != primary]
    if others:
        label = names["with_traits"].format(primary=label, others=names["and"].join(others))
    return label


def typology_labels(classified: pd.DataFrame, lang: str) -> list[str]:
    """:func:`typology_label` of every row of a classified table (``typology``,
    ``primary``, ``traits``)."""
    return [
        typology_label(t, p, s, lang)
        for t, p, s in zip(
            classified["typology"], classified["primary"], classified["traits"], strict=True
        )
    ]
