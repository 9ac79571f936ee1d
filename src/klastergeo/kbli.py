"""KBLI, the Indonesian standard industrial classification (ISIC Rev. 4 based).

Codes are strings: leading zeros matter (``"01"`` is crop farming). A full KBLI 2020 code
has five digits; its first two digits are the division (``golongan pokok``), which is the
default sector of an analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "DIVISIONS",
    "is_valid",
    "label",
    "length_counts",
    "normalise",
    "restore_leading_zero",
    "sector_of",
    "titled",
]

#: Two-digit KBLI 2020 divisions: code -> (Indonesian label, English label).
DIVISIONS: dict[str, tuple[str, str]] = {
    "01": ("Pertanian tanaman, peternakan dan perburuan", "Crop and animal production"),
    "02": ("Kehutanan dan penebangan kayu", "Forestry and logging"),
    "03": ("Perikanan", "Fishing and aquaculture"),
    "05": ("Pertambangan batu bara dan lignit", "Mining of coal and lignite"),
    "06": ("Pertambangan minyak bumi dan gas alam", "Crude petroleum and natural gas"),
    "07": ("Pertambangan bijih logam", "Mining of metal ores"),
    "08": ("Pertambangan dan penggalian lainnya", "Other mining and quarrying"),
    "09": ("Jasa penunjang pertambangan", "Mining support services"),
    "10": ("Industri makanan", "Food products"),
    "11": ("Industri minuman", "Beverages"),
    "12": ("Industri pengolahan tembakau", "Tobacco products"),
    "13": ("Industri tekstil", "Textiles"),
    "14": ("Industri pakaian jadi", "Wearing apparel"),
    "15": ("Industri kulit, barang dari kulit dan alas kaki", "Leather and footwear"),
    "16": ("Industri kayu, anyaman bambu dan rotan", "Wood, bamboo and rattan products"),
    "17": ("Industri kertas dan barang dari kertas", "Paper and paper products"),
    "18": ("Industri pencetakan dan reproduksi media rekaman", "Printing and recorded media"),
    "19": ("Industri produk batu bara dan pengilangan minyak", "Coke and refined petroleum"),
    "20": ("Industri bahan kimia dan barang dari bahan kimia", "Chemicals"),
    "21": ("Industri farmasi dan obat tradisional", "Pharmaceuticals"),
    "22": ("Industri karet, barang dari karet dan plastik", "Rubber and plastics"),
    "23": ("Industri barang galian bukan logam", "Non-metallic mineral products"),
    "24": ("Industri logam dasar", "Basic metals"),
    "25": ("Industri barang logam, bukan mesin", "Fabricated metal products"),
    "26": ("Industri komputer, barang elektronik dan optik", "Computer, electronic, optical"),
    "27": ("Industri peralatan listrik", "Electrical equipment"),
    "28": ("Industri mesin dan perlengkapan ytdl", "Machinery n.e.c."),
    "29": ("Industri kendaraan bermotor dan suku cadangnya", "Motor vehicles and parts"),
    "30": ("Industri alat angkutan lainnya", "Other transport equipment"),
    "31": ("Industri furnitur", "Furniture"),
    "32": ("Industri pengolahan lainnya (kerajinan)", "Other manufacturing (crafts)"),
    "33": ("Jasa reparasi dan pemasangan mesin", "Repair and installation of machinery"),
    "35": ("Pengadaan listrik, gas dan uap", "Electricity, gas and steam"),
    "36": ("Pengelolaan air", "Water collection and supply"),
    "37": ("Pengelolaan air limbah", "Sewerage"),
    "38": ("Pengelolaan dan daur ulang sampah", "Waste collection and recycling"),
    "39": ("Remediasi dan pengelolaan sampah lainnya", "Remediation"),
    "41": ("Konstruksi gedung", "Construction of buildings"),
    "42": ("Konstruksi bangunan sipil", "Civil engineering"),
    "43": ("Konstruksi khusus", "Specialised construction"),
    "45": ("Perdagangan dan reparasi mobil dan sepeda motor", "Motor vehicle trade and repair"),
    "46": ("Perdagangan besar", "Wholesale trade"),
    "47": ("Perdagangan eceran", "Retail trade"),
    "49": ("Angkutan darat", "Land transport"),
    "50": ("Angkutan perairan", "Water transport"),
    "51": ("Angkutan udara", "Air transport"),
    "52": ("Pergudangan dan penunjang angkutan", "Warehousing and transport support"),
    "53": ("Aktivitas pos dan kurir", "Postal and courier"),
    "55": ("Penyediaan akomodasi", "Accommodation"),
    "56": ("Penyediaan makanan dan minuman", "Food and beverage service"),
    "58": ("Aktivitas penerbitan", "Publishing"),
    "59": ("Produksi film, video, program televisi dan rekaman suara", "Film, video and sound"),
    "60": ("Penyiaran dan pemrograman", "Programming and broadcasting"),
    "61": ("Telekomunikasi", "Telecommunications"),
    "62": ("Pemrograman dan konsultasi komputer", "Computer programming and consultancy"),
    "63": ("Jasa informasi", "Information services"),
    "64": ("Jasa keuangan, bukan asuransi", "Financial services"),
    "65": ("Asuransi, reasuransi dan dana pensiun", "Insurance and pension funding"),
    "66": ("Penunjang jasa keuangan", "Auxiliary financial services"),
    "68": ("Real estat", "Real estate"),
    "69": ("Aktivitas hukum dan akuntansi", "Legal and accounting"),
    "70": ("Kantor pusat dan konsultasi manajemen", "Head offices and management consultancy"),
    "71": ("Arsitektur, keinsinyuran dan uji teknis", "Architecture, engineering, testing"),
    "72": ("Penelitian dan pengembangan", "Scientific research and development"),
    "73": ("Periklanan dan penelitian pasar", "Advertising and market research"),
    "74": ("Aktivitas profesional, ilmiah dan teknis lainnya", "Other professional activities"),
    "75": ("Aktivitas kesehatan hewan", "Veterinary activities"),
    "77": ("Sewa guna usaha tanpa hak opsi", "Rental and leasing"),
    "78": ("Aktivitas ketenagakerjaan", "Employment activities"),
    "79": ("Agen perjalanan dan penyelenggara tur", "Travel agencies and tour operators"),
    "80": ("Keamanan dan penyelidikan", "Security and investigation"),
    "81": ("Jasa untuk gedung dan pertamanan", "Services to buildings and landscape"),
    "82": ("Administrasi dan penunjang kantor", "Office administration and support"),
    "84": ("Administrasi pemerintahan dan pertahanan", "Public administration and defence"),
    "85": ("Pendidikan", "Education"),
    "86": ("Aktivitas kesehatan manusia", "Human health"),
    "87": ("Perawatan dalam panti", "Residential care"),
    "88": ("Aktivitas sosial tanpa akomodasi", "Social work without accommodation"),
    "90": ("Kesenian, hiburan dan kreativitas", "Creative, arts and entertainment"),
    "91": ("Perpustakaan, arsip dan museum", "Libraries, archives and museums"),
    "92": ("Perjudian dan pertaruhan", "Gambling and betting"),
    "93": ("Olahraga dan rekreasi lainnya", "Sports, amusement and recreation"),
    "94": ("Aktivitas keanggotaan organisasi", "Membership organisations"),
    "95": ("Reparasi komputer dan barang rumah tangga", "Repair of computers and household goods"),
    "96": ("Jasa perorangan lainnya", "Other personal services"),
    "97": ("Rumah tangga sebagai pemberi kerja", "Households as employers"),
    "98": ("Rumah tangga yang menghasilkan untuk keperluan sendiri", "Households, own use"),
    "99": ("Badan internasional", "Extraterritorial organisations"),
}

_MIN_DIGITS = 2
_MAX_DIGITS = 5
#: The longest KBLI code (a class); :func:`length_counts` counts lengths 0 to MAX_DIGITS + 1.
MAX_DIGITS = _MAX_DIGITS


def normalise(codes: pd.Series) -> pd.Series:
    """Strip blanks from KBLI codes and turn empty strings into missing values.

    Codes stay strings; nothing is zero-padded, because ``"1"`` may be ``"01"`` or a typing
    error and only the user can tell.

    Parameters
    ----------
    codes
        KBLI codes as read (strings, numbers or missing values).

    Returns
    -------
    Series of stripped code strings (object dtype), NaN where a code was missing or blank.

    Examples
    --------
    >>> normalise(pd.Series([" 13134", "01", "", None])).tolist()
    ['13134', '01', nan, nan]
    """
    out = codes.astype("string").str.strip()
    out = out.mask(out == "")
    return out.astype(object).where(out.notna(), np.nan)


def is_valid(codes: pd.Series) -> pd.Series:
    """True where a code has 2 to 5 digits and starts with a known KBLI division.

    Parameters
    ----------
    codes
        KBLI codes; missing values are not valid.

    Returns
    -------
    Boolean Series, indexed like ``codes``.

    Examples
    --------
    >>> is_valid(pd.Series(["13134", "01", "1", "00", "ab", None])).tolist()
    [True, True, False, False, False, False]
    """
    text = codes.astype("string")
    digits = text.str.fullmatch(rf"\d{{{_MIN_DIGITS},{_MAX_DIGITS}}}").fillna(False)
    known = text.str[:2].isin(list(DIVISIONS)).fillna(False)
    return (digits & known).astype(bool)


def length_counts(codes: pd.Series) -> NDArray[np.int64]:
    """How many valid codes have each length (position = length), and last how many are
    written with a leading zero: the evidence from which :func:`restore_leading_zero`
    reads a column's width and whether it kept its zeros. Counts of batches add up.

    Parameters
    ----------
    codes
        KBLI codes, as read (see :func:`normalise`).

    Returns
    -------
    ndarray
        Counts of lengths 0 to 6, then of codes with a leading zero.

    Examples
    --------
    >>> length_counts(pd.Series(["13134", "1110", "01110", "xyz"])).tolist()
    [0, 0, 0, 0, 1, 2, 0, 1]
    """
    text = codes.astype("string")
    valid = is_valid(text).to_numpy(dtype=bool)
    length = text.str.len().fillna(0).to_numpy(dtype=np.int64)
    zero = text.str.startswith("0").fillna(False).to_numpy(dtype=bool)
    counts = np.bincount(length[valid], minlength=_MAX_DIGITS + 2)
    return np.append(counts, int((valid & zero).sum()))


#: The groups (three digits) of the KBLI 2020 divisions 01-09: a code that gets its zero
#: back must be of one of them (``1079`` is no ``01079``: division 01 has groups 011-017).
_ZERO_GROUPS = (
    *(f"01{g}" for g in "1234567"),
    *(f"02{g}" for g in "1234"),
    "031",
    "032",
    "051",
    "052",
    "061",
    "062",
    "071",
    "072",
    "081",
    "089",
    "091",
    "099",
)


#: The subgroups of divisions 01-09 whose fourth digit is 0 (a group not split further).
_ZERO_SUBGROUPS = (
    "0130",
    "0150",
    "0170",
    "0210",
    "0220",
    "0230",
    "0240",
    "0510",
    "0520",
    "0610",
    "0620",
    "0710",
)


def restore_leading_zero(
    codes: pd.Series, *, typed: bool = False, lengths: NDArray[np.int64] | None = None
) -> tuple[pd.Series, NDArray[np.bool_], NDArray[np.bool_]]:
    """Put back the leading zero that divisions 01-09 lose in spreadsheets and number
    columns, where that is unambiguous.

    The column's *width* is the length most of its codes have (5 in a registry of KBLI
    2020 classes, 2 in one of divisions). A code one digit shorter than the width is
    restored (``"0" + code``) when the zero makes a code of a 0x division and

    - it is not a KBLI code as written (``"1"`` in a column of divisions -> ``"01"``), or
    - the column holds numbers (``typed``): a number cannot keep a leading zero, so
      ``1110`` in a column of five-digit classes is ``01110``, or
    - the column is text that lost its zeros: no code of it is written with a leading
      zero (a list typed in a spreadsheet and saved as CSV), so ``3226`` among five-digit
      classes is ``03226`` (fish farming), not group 3226.

    A code of a number column that reads as a KBLI code both ways (``1110``: group 1110
    of division 11, or class 01110) while no length holds most of the column is
    *ambiguous*: only the user can tell. A text column's codes are taken as written.

    Parameters
    ----------
    codes
        KBLI codes, as read (see :func:`normalise`).
    typed
        True when the column was read as numbers (its leading zeros are certainly lost);
        False for a text column, whose codes that are valid as written are kept.
    lengths
        The whole column's :func:`length_counts` when ``codes`` is one batch of it;
        default: those of ``codes``.

    Returns
    -------
    codes
        The codes (restored where it applies), strings with NaN for missing values.
    restored
        Boolean array, True where a zero was put back.
    ambiguous
        Boolean array, True where a code could be read both ways (only when ``typed``).

    Examples
    --------
    >>> codes, restored, ambiguous = restore_leading_zero(
    ...     pd.Series(["13134", "1110", "10710", "47111", "3111"]), typed=True
    ... )
    >>> codes.tolist(), restored.tolist()
    (['13134', '01110', '10710', '47111', '03111'], [False, True, False, False, True])

    Half the codes four digits long, half five: ``1110`` may be either.

    >>> codes, restored, ambiguous = restore_leading_zero(
    ...     pd.Series(["13134", "1110"]), typed=True
    ... )
    >>> codes.tolist(), ambiguous.tolist()
    (['13134', '1110'], [False, True])
    """
    text = codes.astype("string")
    digits = text.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
    valid = is_valid(text).to_numpy(dtype=bool)
    padded = ("0" + text).where(pd.Series(digits, index=text.index), text)
    padded_valid = digits & is_valid(padded).to_numpy(dtype=bool)
    restore = np.zeros(len(text), dtype=bool)
    ambiguous = np.zeros(len(text), dtype=bool)
    # a padded code must be of a group its 0x division has (01: 011-017, 03: 031-032, ...)
    written = padded.fillna("").astype(str)
    length = written.str.len().to_numpy()
    in_group = (length < 3) | written.str.slice(0, 3).isin(_ZERO_GROUPS).to_numpy(dtype=bool)
    # and of a subgroup: a fourth digit 0 only where the group is its own subgroup (0130
    # ornamental plants; 3100 is no 03100: group 031 is split into 0311-0313)
    head = written.str.slice(0, 4)
    in_subgroup = (length < 4) | (written.str.slice(3, 4) != "0").to_numpy(dtype=bool)
    in_subgroup |= head.isin(_ZERO_SUBGROUPS).to_numpy(dtype=bool)
    padded_valid &= in_group & in_subgroup
    evidence = length_counts(text) if lengths is None else lengths
    counts, zeros_kept = evidence[: _MAX_DIGITS + 2], int(evidence[_MAX_DIGITS + 2 :].sum())
    if counts.sum():
        length = text.str.len().fillna(0).to_numpy(dtype=np.int64)
        width = int(counts.argmax())
        if counts[width] * 2 > int(counts.sum()):
            lost = typed or (zeros_kept == 0 and width == _MAX_DIGITS)
            restore = padded_valid & (length == width - 1) & (~valid | lost)
        elif typed:
            ambiguous = valid & padded_valid & (length < _MAX_DIGITS)
    out = text.where(~pd.Series(restore, index=text.index), padded)
    return out.astype(object).where(out.notna(), np.nan), restore, ambiguous


def sector_of(codes: pd.Series, *, digits: int = 2) -> pd.Series:
    """The sector of each code: its first ``digits`` digits (codes shorter stay missing).

    Parameters
    ----------
    codes
        KBLI codes as strings (see :func:`normalise`).
    digits
        KBLI level of the sector, 2 (division, the default) to 5 (class); other values
        raise :class:`ConfigError`.

    Returns
    -------
    Series of sector codes (object dtype), missing where a code is missing or shorter.

    Examples
    --------
    >>> sector_of(pd.Series(["13134", "31"]), digits=2).tolist()
    ['13', '31']
    """
    if not _MIN_DIGITS <= digits <= _MAX_DIGITS:
        from klastergeo.errors import ConfigError

        raise ConfigError(
            f"sector_digits={digits!r} is not a KBLI level; use 2 (division), 3, 4 or 5"
        )
    text = codes.astype("string")
    out = text.str[:digits]
    return out.where(text.str.len() >= digits).astype(object)


def label(code: str, *, lang: str = "id") -> str:
    """Human label of a sector code (its division's label for longer codes).

    Parameters
    ----------
    code
        A KBLI code of 2 to 5 digits; a code of no known division is returned unchanged.
    lang
        ``"id"`` for the Indonesian label, anything else for the English one.

    Examples
    --------
    >>> label("31", lang="en")
    'Furniture'
    >>> label("13134")
    'Industri tekstil'
    """
    names = DIVISIONS.get(str(code)[:2])
    if names is None:
        return str(code)
    return names[0] if lang == "id" else names[1]


def titled(code: str, *, lang: str = "id") -> str:
    """A sector as pages and figures name it: its code, then its label.

    Parameters
    ----------
    code
        A KBLI code.
    lang
        ``"id"`` or ``"en"``, as for :func:`label`.

    Examples
    --------
    >>> titled("31", lang="en")
    '31 Furniture'
    """
    return f"{code} {label(str(code), lang=lang)}"
