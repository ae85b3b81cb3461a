"""Reference data for the demo dealer group: regions and cities of China, brands and
their models, names. Static and immutable; the generator draws from it.

Coordinates are the cities' centres (degrees, WGS84, rounded). Prices are indicative
2024-2026 Chinese list prices of the base trim (CNY). ``share`` is a brand's relative
weekly volume per store (a Volkswagen 4S store sells about 1.5 times a typical one).
``source_make`` is the Norway make (``data/norway_new_car_sales_by_make.csv``) whose
monthly sales shape the brand's demand: BYD follows Renault (Zoe-led electric growth),
Tesla follows Tesla, Geely follows Mitsubishi (plug-in hybrid growth), Changan follows
Ford (its joint-venture partner), Buick follows Opel (both GM).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BRANDS",
    "COLOURS",
    "GIVEN_NAMES",
    "LEVELS",
    "LEVEL_MULTIPLIERS",
    "MOBILE_PREFIXES",
    "REGIONS",
    "SURNAMES",
    "BrandInfo",
    "City",
    "ModelInfo",
    "RegionInfo",
    "brand_count",
]


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    weight: float  # relative number of stores
    tier1: bool = False


@dataclass(frozen=True)
class RegionInfo:
    name: str
    cities: tuple[City, ...]

    @property
    def weight(self) -> float:
        return sum(city.weight for city in self.cities)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    powertrain: str  # "ICE" | "HEV" | "PHEV" | "BEV"
    msrp_cny: int  # base trim


@dataclass(frozen=True)
class BrandInfo:
    name: str
    is_nev: bool
    source_make: str
    share: float
    wmi: str  # VIN world manufacturer identifier of its Chinese plant (or importer)
    models: tuple[ModelInfo, ...]


def _m(name: str, powertrain: str, msrp: int) -> ModelInfo:
    return ModelInfo(name, powertrain, msrp)


REGIONS: tuple[RegionInfo, ...] = (
    RegionInfo(
        "East China",
        (
            City("Shanghai", 31.2304, 121.4737, 10, True),
            City("Hangzhou", 30.2741, 120.1551, 6),
            City("Nanjing", 32.0603, 118.7969, 5),
            City("Suzhou", 31.2989, 120.5853, 5),
            City("Ningbo", 29.8683, 121.5440, 3),
            City("Hefei", 31.8206, 117.2272, 3),
            City("Jinan", 36.6512, 117.1201, 3),
            City("Qingdao", 36.0671, 120.3826, 3),
            City("Fuzhou", 26.0745, 119.2965, 2),
            City("Xiamen", 24.4798, 118.0894, 2),
            City("Wuxi", 31.4912, 120.3119, 2),
        ),
    ),
    RegionInfo(
        "South China",
        (
            City("Guangzhou", 23.1291, 113.2644, 8, True),
            City("Shenzhen", 22.5431, 114.0579, 8, True),
            City("Dongguan", 23.0207, 113.7518, 3),
            City("Foshan", 23.0215, 113.1214, 3),
            City("Nanning", 22.8170, 108.3665, 2),
            City("Haikou", 20.0440, 110.1999, 1),
        ),
    ),
    RegionInfo(
        "North China",
        (
            City("Beijing", 39.9042, 116.4074, 10, True),
            City("Tianjin", 39.3434, 117.3616, 5),
            City("Shijiazhuang", 38.0428, 114.5149, 3),
            City("Taiyuan", 37.8706, 112.5489, 2),
            City("Hohhot", 40.8426, 111.7490, 1),
        ),
    ),
    RegionInfo(
        "Southwest China",
        (
            City("Chengdu", 30.5728, 104.0668, 6),
            City("Chongqing", 29.5630, 106.5516, 6),
            City("Kunming", 24.8801, 102.8329, 3),
            City("Guiyang", 26.6470, 106.6302, 2),
        ),
    ),
    RegionInfo(
        "Central China",
        (
            City("Wuhan", 30.5928, 114.3055, 5),
            City("Changsha", 28.2282, 112.9388, 4),
            City("Zhengzhou", 34.7466, 113.6253, 4),
            City("Nanchang", 28.6820, 115.8579, 2),
        ),
    ),
    RegionInfo(
        "Northeast China",
        (
            City("Shenyang", 41.8057, 123.4315, 3),
            City("Dalian", 38.9140, 121.6147, 3),
            City("Harbin", 45.8038, 126.5349, 3),
            City("Changchun", 43.8171, 125.3235, 3),
        ),
    ),
    RegionInfo(
        "Northwest China",
        (
            City("Xi'an", 34.3416, 108.9398, 4),
            City("Lanzhou", 36.0611, 103.8343, 2),
            City("Urumqi", 43.8256, 87.6168, 2),
            City("Yinchuan", 38.4872, 106.2309, 1),
        ),
    ),
)

# In order of importance: a group with fewer stores than brands uses the first ones.
# fmt: off
BRANDS: tuple[BrandInfo, ...] = (
    BrandInfo("Volkswagen", False, "Volkswagen", 1.5, "LSV", (
        _m("Lavida", "ICE", 110_000), _m("Sagitar", "ICE", 150_000),
        _m("Passat", "ICE", 200_000), _m("Tiguan L", "ICE", 220_000),
        _m("Magotan", "ICE", 190_000), _m("ID.4 CROZZ", "BEV", 180_000),
        _m("Bora", "ICE", 100_000),
    )),
    BrandInfo("BYD", True, "Renault", 1.6, "LGX", (
        _m("Qin PLUS DM-i", "PHEV", 100_000), _m("Song PLUS DM-i", "PHEV", 160_000),
        _m("Han EV", "BEV", 210_000), _m("Seal", "BEV", 190_000), _m("Dolphin", "BEV", 110_000),
        _m("Yuan PLUS", "BEV", 140_000), _m("Tang DM-i", "PHEV", 220_000),
        _m("Seagull", "BEV", 70_000),
    )),
    BrandInfo("Toyota", False, "Toyota", 1.3, "LVG", (
        _m("Corolla", "HEV", 120_000), _m("Camry", "HEV", 200_000), _m("RAV4", "HEV", 190_000),
        _m("Highlander", "HEV", 280_000), _m("Levin", "ICE", 115_000),
        _m("bZ3", "BEV", 170_000), _m("Sienna", "HEV", 320_000),
    )),
    BrandInfo("Honda", False, "Honda", 1.0, "LHG", (
        _m("Accord", "HEV", 180_000), _m("Civic", "ICE", 130_000), _m("CR-V", "ICE", 190_000),
        _m("Breeze", "ICE", 170_000), _m("e:NP1", "BEV", 180_000),
        _m("Odyssey", "HEV", 260_000),
    )),
    BrandInfo("Geely", False, "Mitsubishi", 0.9, "L6T", (
        _m("Emgrand", "ICE", 70_000), _m("Boyue L", "ICE", 120_000),
        _m("Xingyue L", "ICE", 150_000), _m("Galaxy L7", "PHEV", 140_000),
        _m("Geometry E", "BEV", 90_000),
    )),
    BrandInfo("Nissan", False, "Nissan", 0.8, "LGB", (
        _m("Sylphy", "ICE", 110_000), _m("X-Trail", "ICE", 180_000),
        _m("Teana", "ICE", 180_000), _m("Qashqai", "ICE", 140_000), _m("Ariya", "BEV", 230_000),
    )),
    BrandInfo("Mercedes-Benz", False, "Mercedes-Benz", 0.7, "LE4", (
        _m("C-Class", "ICE", 330_000), _m("E-Class", "ICE", 440_000), _m("GLC", "ICE", 430_000),
        _m("GLE", "ICE", 720_000), _m("A-Class", "ICE", 230_000), _m("EQE", "BEV", 480_000),
    )),
    BrandInfo("BMW", False, "BMW", 0.7, "LBV", (
        _m("3 Series", "ICE", 300_000), _m("5 Series", "ICE", 430_000),
        _m("X1", "ICE", 280_000), _m("X3", "ICE", 400_000), _m("X5", "ICE", 620_000),
        _m("i3", "BEV", 350_000),
    )),
    BrandInfo("Changan", False, "Ford", 0.8, "LS5", (
        _m("CS75 PLUS", "ICE", 120_000), _m("CS55 PLUS", "ICE", 100_000),
        _m("UNI-V", "ICE", 110_000), _m("Eado", "ICE", 80_000),
        _m("Deepal SL03", "BEV", 170_000),
    )),
    BrandInfo("Audi", False, "Audi", 0.65, "LFV", (
        _m("A4L", "ICE", 320_000), _m("A6L", "ICE", 420_000), _m("Q3", "ICE", 280_000),
        _m("Q5L", "ICE", 400_000), _m("Q4 e-tron", "BEV", 300_000),
    )),
    BrandInfo("Tesla", True, "Tesla", 0.6, "LRW", (
        _m("Model 3", "BEV", 240_000), _m("Model Y", "BEV", 260_000),
    )),
    BrandInfo("Buick", False, "Opel", 0.6, "LSG", (
        _m("Excelle GT", "ICE", 100_000), _m("Regal", "ICE", 180_000),
        _m("LaCrosse", "ICE", 230_000), _m("Envision Plus", "ICE", 200_000),
        _m("GL8", "ICE", 300_000),
    )),
    BrandInfo("Hyundai", False, "Hyundai", 0.3, "LBE", (
        _m("Elantra", "ICE", 100_000), _m("Tucson L", "ICE", 150_000),
        _m("Sonata", "ICE", 160_000), _m("Custin", "ICE", 170_000),
    )),
    BrandInfo("Volvo", False, "Volvo", 0.3, "LVY", (
        _m("S60", "ICE", 290_000), _m("XC60", "ICE", 380_000), _m("S90", "ICE", 400_000),
        _m("XC90", "PHEV", 640_000), _m("EX30", "BEV", 200_000),
    )),
    BrandInfo("Lexus", False, "Lexus", 0.3, "JTH", (
        _m("ES", "HEV", 300_000), _m("RX", "HEV", 450_000), _m("NX", "HEV", 320_000),
        _m("LM", "HEV", 1_100_000),
    )),
    BrandInfo("Porsche", False, "Porsche", 0.12, "WP1", (
        _m("Macan", "ICE", 580_000), _m("Cayenne", "ICE", 930_000),
        _m("Taycan", "BEV", 890_000), _m("Panamera", "ICE", 1_040_000),
    )),
)
# fmt: on

LEVELS: tuple[str, ...] = ("Standard", "Comfort", "Deluxe", "Premium", "Flagship")
LEVEL_MULTIPLIERS: tuple[float, ...] = (1.0, 1.07, 1.15, 1.25, 1.38)

# (name, share of cars) as sold in China: white dominates.
COLOURS: tuple[tuple[str, float], ...] = (
    ("Pearl White", 0.44),
    ("Black", 0.20),
    ("Grey", 0.12),
    ("Silver", 0.08),
    ("Blue", 0.07),
    ("Red", 0.05),
    ("Green", 0.04),
)

SURNAMES: tuple[str, ...] = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
)  # fmt: skip
GIVEN_NAMES: tuple[str, ...] = (
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong",
    "Yan", "Jie", "Tao", "Ming", "Chao", "Xiuying", "Xia", "Ping", "Gang", "Hui",
    "Hao", "Yu", "Xin", "Ting", "Bo", "Peng", "Hong", "Lan", "Zihan",
)  # fmt: skip

MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "195", "198", "199",
)  # fmt: skip


def brand_count(stores: int) -> int:
    """How many brands a group of ``stores`` stores sells: each store has a primary
    brand, so a group never has more brands than stores."""
    return max(1, min(len(BRANDS), stores))
