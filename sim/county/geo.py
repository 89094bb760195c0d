"""Real coordinates: China's GCJ-02 offset, the bounds of China, and a local projection to km.

Chinese web maps (Amap/Gaode, Tencent, Google Maps in China) publish positions in GCJ-02, a
WGS-84 position shifted by a published non-linear offset of a few hundred metres; GPS and
OpenStreetMap use WGS-84.  :func:`gcj02_to_wgs84` inverts the offset by fixed-point
iteration to well under a metre.  Baidu Maps adds its own published rotation and shift on top
of GCJ-02 (BD-09, a further ~0.0065 degrees east and ~0.006 north, about 700-1,000 m):
:func:`bd09_to_wgs84` removes both.  :func:`local_projection` builds an azimuthal equidistant
projection (pyproj) centred on the county, so that x/y kilometres keep distances to a small
fraction of a percent across a county.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CHINA_BOUNDS", "in_china", "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02",
           "bd09_to_wgs84", "LocalProjection", "local_projection"]

#: (lon_min, lon_max, lat_min, lat_max) of the rough rectangle around China used by the
#: published GCJ-02 algorithm (outside it no offset applies); a site outside it is not in a
#: Chinese county (a swapped lon/lat, a missing minus sign, a typo).
CHINA_BOUNDS = (72.004, 137.8347, 0.8293, 55.8271)

#: semi-major axis (m) and first eccentricity squared of the Krasovsky 1940 ellipsoid, the
#: constants of the published GCJ-02 offset.
_A = 6378245.0
_EE = 0.00669342162296594323


def in_china(lon: float, lat: float) -> bool:
    """Whether a lon/lat lies inside :data:`CHINA_BOUNDS`.

    >>> in_china(116.39, 39.91), in_china(39.91, 116.39), in_china(-116.39, 39.91)
    (True, False, False)
    """
    lo, hi, la, ha = CHINA_BOUNDS
    return lo <= lon <= hi and la <= lat <= ha


def _offset_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _offset_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 offset applied to a WGS-84 lon/lat (unchanged outside China).

    >>> lon, lat = wgs84_to_gcj02(116.377817, 39.911954)   # Beijing
    >>> round(lon, 6), round(lat, 6)
    (116.384047, 39.913345)
    """
    if not in_china(lon, lat):
        return lon, lat
    x, y = lon - 105.0, lat - 35.0
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = _offset_lat(x, y) * 180.0 / ((_A * (1.0 - _EE)) / (magic * sq) * math.pi)
    dlon = _offset_lon(x, y) * 180.0 / (_A / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float, tol_deg: float = 1e-9) -> tuple[float, float]:
    """WGS-84 lon/lat of a GCJ-02 position: the offset inverted by fixed-point iteration.

    The offset changes slowly with position (its derivative is ~1e-5), so each step gains
    about five digits; two or three steps reach ``tol_deg`` (1e-9 degrees is ~0.1 mm).

    >>> lon, lat = gcj02_to_wgs84(116.38404722455657, 39.91334545536069)
    >>> round(lon, 7), round(lat, 7)
    (116.377817, 39.911954)
    """
    return _invert(wgs84_to_gcj02, lon, lat, (lon, lat), tol_deg)


def _invert(forward, lon: float, lat: float, guess: tuple[float, float], tol_deg: float) -> tuple[float, float]:
    """The position that ``forward`` maps to (lon, lat), by fixed-point iteration from ``guess``
    (each datum's shift changes slowly with position, so each step gains several digits)."""
    x, y = guess
    for _ in range(30):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < tol_deg and abs(dy) < tol_deg:
            break
    return x, y


#: the constant of Baidu's published BD-09 transform (pi x 3000 / 180)
_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 (Baidu Maps) lon/lat of a GCJ-02 position: Baidu's published polar shift.

    >>> lon, lat = gcj02_to_bd09(116.397390, 39.908860)
    >>> round(lon - 116.397390, 4), round(lat - 39.908860, 4)
    (0.0064, 0.0063)
    """
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float, tol_deg: float = 1e-10) -> tuple[float, float]:
    """GCJ-02 lon/lat of a BD-09 position: :func:`gcj02_to_bd09` inverted by fixed-point
    iteration (the closed-form inverse usually given is off by up to ~1e-6 degrees)."""
    return _invert(gcj02_to_bd09, lon, lat, (lon - 0.0065, lat - 0.006), tol_deg)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 lon/lat of a BD-09 (Baidu Maps) position."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@dataclass(frozen=True)
class LocalProjection:
    """An azimuthal equidistant projection centred on (``lon0``, ``lat0``), in kilometres."""

    lon0: float
    lat0: float

    @property
    def proj(self) -> str:
        """The PROJ string (recorded in ``network.coordinates.projection``)."""
        return f"+proj=aeqd +lat_0={self.lat0:.6f} +lon_0={self.lon0:.6f} +datum=WGS84 +units=km +no_defs"

    def _transformer(self, inverse: bool = False):
        from pyproj import CRS, Transformer

        local = CRS.from_proj4(self.proj)
        src, dst = ("EPSG:4326", local) if not inverse else (local, "EPSG:4326")
        return Transformer.from_crs(src, dst, always_xy=True)

    def to_km(self, lon: Sequence[float], lat: Sequence[float]) -> tuple[list[float], list[float]]:
        """x (east) and y (north) kilometres of WGS-84 lon/lat."""
        x, y = self._transformer().transform(list(lon), list(lat))
        return [float(v) for v in x], [float(v) for v in y]

    def to_lonlat(self, x_km: Sequence[float], y_km: Sequence[float]) -> tuple[list[float], list[float]]:
        """WGS-84 lon/lat of x/y kilometres."""
        lon, lat = self._transformer(inverse=True).transform(list(x_km), list(y_km))
        return [float(v) for v in lon], [float(v) for v in lat]


def local_projection(lon: Sequence[float], lat: Sequence[float]) -> LocalProjection:
    """The projection centred on the middle of the given points (the midpoint of their range,
    rounded to 1e-4 degrees so that the recorded string is short and stable).

    >>> p = local_projection([116.0, 117.0], [39.0, 40.0])
    >>> p.lon0, p.lat0
    (116.5, 39.5)
    >>> x, y = p.to_km([116.5], [39.5])
    >>> abs(x[0]) < 1e-9 and abs(y[0]) < 1e-9
    True
    """
    lon0 = round((min(lon) + max(lon)) / 2.0, 4)
    lat0 = round((min(lat) + max(lat)) / 2.0, 4)
    return LocalProjection(lon0, lat0)
