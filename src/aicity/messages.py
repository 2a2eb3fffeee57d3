"""The strings people read, in en, ko and ja, in one catalogue: the web's interface, the
report's headings and verdict labels, and the names of methods. A test checks that every key
exists in every language. (The report's sentences are built by its writers in `report.py`,
because their grammar differs by language.)
"""

from __future__ import annotations

from typing import Any

UI: dict[str, dict[str, Any]] = {
    "en": {
        "ranking": "Ranking", "build": "Build your own index", "compare": "Compare", "map": "Map", "data": "Data and sources",
        "rank": "Rank", "city": "City", "region": "Region", "all_regions": "All regions", "score": "Score",
        "interval": "Rank interval (5–95%)", "missing": "Missing", "profile": "Profile", "strengths": "Strengths",
        "weaknesses": "Weaknesses", "peers": "Nearest peers", "sources": "Sources", "indicator": "Indicator", "value": "Value",
        "year": "Year", "geo": "Geography", "source": "Source", "persona": "Persona", "weights": "Weights",
        "reset": "Framework weights", "gap": "Gap", "contribution": "Contribution", "proxy": "national figure",
        "a": "City A", "b": "City B", "go": "Compare", "screened": "not ranked: too little data", "language": "Language",
        "intro": "The Global AI City Index compares cities' AI competitiveness with sourced data. Sort the table, filter by region, or open a city.",
        "build_intro": "Move a slider: the ranking re-orders as you go. Presets set the weights of a persona.",
        "why": "Why", "skip": "Skip to content", "main_menu": "Main menu", "back": "Back to the text",
        "counted": "Counted, name by name", "n_items": "{n}", "list_sep": ", ",
        "show": "Show", "all_indicators": "All indicators",
        "coverage": "{present} of {of} indicators · missing: {missing}",
        "rank_of": "{rank:ordinal} of {of}", "ranked_name": "{rank}. {name}",
        "value_year": "{value}, {year}", "quote": "“{text}”",
        "compare_title": "{a} and {b} compared", "favours": "What favours {name}",
        "not_found": "Page not found", "no_unit": "There is no city {name} in this index.",
        "not_ranked": "{name} is not ranked: it has too little data.", "no_indicator": "There is no indicator {name} in this index.",
        "no_page": "There is no page at this address.", "back_to_ranking": "Back to the ranking",
        "geo_names": {"city": "city", "metro": "metro area", "cluster": "cluster", "country": "country"},
    },
    "ko": {
        "ranking": "순위", "build": "나만의 지수 만들기", "compare": "비교", "map": "지도", "data": "데이터와 출처",
        "rank": "순위", "city": "도시", "region": "지역", "all_regions": "전체 지역", "score": "점수",
        "interval": "순위 구간(5~95%)", "missing": "결측 지표", "profile": "프로필", "strengths": "강점", "weaknesses": "약점",
        "peers": "비슷한 도시", "sources": "출처", "indicator": "지표", "value": "값", "year": "연도", "geo": "지리 단위",
        "source": "출처", "persona": "관점", "weights": "가중치", "reset": "기본 가중치", "gap": "격차", "contribution": "기여도",
        "proxy": "국가 수치로 대체", "a": "도시 A", "b": "도시 B", "go": "비교하기", "screened": "자료 부족으로 순위 제외",
        "language": "언어",
        "intro": "글로벌 AI 도시 지수는 출처가 있는 데이터로 도시의 AI 경쟁력을 비교한다. 표는 항목별로 정렬하거나 지역별로 걸러 볼 수 있고, 도시 이름을 누르면 자세한 내용이 나온다.",
        "build_intro": "슬라이더를 움직이면 순위가 바로 바뀐다. 관점을 고르면 그 관점에 맞춘 가중치가 적용된다.",
        "why": "이유", "skip": "본문 바로가기", "main_menu": "주 메뉴", "back": "본문으로 돌아가기",
        "counted": "집계 대상 목록", "n_items": "{n}개", "list_sep": ", ",
        "show": "보기", "all_indicators": "전체 지표",
        "coverage": "지표 {of}개 중 {present}개 · 결측 지표 {missing}개",
        "rank_of": "{of}개 도시 중 {rank:ordinal}",
        "ranked_name": "{rank:ordinal} {name}", "value_year": "{value}, {year}년", "quote": "‘{text}’",
        "compare_title": "{a:과/와} {b} 비교", "favours": "{name}에 유리한 지표",
        "not_found": "페이지를 찾을 수 없다", "no_unit": "이 지수에는 {name:이라는/라는} 도시가 없다.",
        "not_ranked": "{name:은/는} 자료가 부족해 순위에서 제외되었다.", "no_indicator": "이 지수에는 {name:이라는/라는} 지표가 없다.",
        "no_page": "이 주소에는 페이지가 없다.", "back_to_ranking": "순위로 돌아가기",
        "geo_names": {"city": "도시", "metro": "광역권", "cluster": "클러스터", "country": "국가"},
    },
    "ja": {
        "ranking": "ランキング", "build": "自分だけの指数をつくる", "compare": "比較", "map": "地図", "data": "データと出典",
        "rank": "順位", "city": "都市", "region": "地域", "all_regions": "すべての地域", "score": "得点",
        "interval": "順位区間（5～95%）", "missing": "欠損指標", "profile": "プロフィール", "strengths": "強み", "weaknesses": "弱み",
        "peers": "類似都市", "sources": "出典", "indicator": "指標", "value": "値", "year": "年", "geo": "地理単位",
        "source": "出典", "persona": "視点", "weights": "重み", "reset": "既定の重み", "gap": "差", "contribution": "寄与度",
        "proxy": "国の数値で代用", "a": "都市A", "b": "都市B", "go": "比較する", "screened": "データ不足のためランキング対象外",
        "language": "言語",
        "intro": "グローバルAI都市指数は、出典のあるデータで都市のAI競争力を比較する。表は並べ替えや地域での絞り込みができ、都市名を選ぶと詳細が表示される。",
        "build_intro": "スライダーを動かすと、ランキングがすぐに更新される。視点を選ぶと、その視点に合わせた重みが適用される。",
        "why": "理由", "skip": "本文へ移動", "main_menu": "メインメニュー", "back": "本文に戻る",
        "counted": "数えた対象の一覧", "n_items": "{n}件", "list_sep": "、",
        "show": "表示", "all_indicators": "すべての指標",
        "coverage": "データのある指標：{present}/{of}、欠損指標：{missing}",
        "rank_of": "{of}都市中{rank:ordinal}",
        "ranked_name": "{rank:ordinal} {name}", "value_year": "{value}、{year}年", "quote": "「{text}」",
        "compare_title": "{a}と{b}の比較", "favours": "{name}に有利な指標",
        "not_found": "ページが見つからない", "no_unit": "この指数に{name}という都市はない。",
        "not_ranked": "{name}はデータ不足のためランキングの対象外である。", "no_indicator": "この指数に{name}という指標はない。",
        "no_page": "このアドレスにページはない。", "back_to_ranking": "ランキングに戻る",
        "geo_names": {"city": "都市", "metro": "都市圏", "cluster": "クラスター", "country": "国"},
    },
}


REPORT_HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Introduction", "infrastructure": "Technology infrastructure", "industry": "Industry ecosystem",
        "policy": "Policy and citizen participation", "trust": "Trust and future readiness",
        "trends": "Speed and stability over time", "conclusion": "Which city suits whom",
        "claims": "The essay's claims against the data", "gaps": "What the data cannot tell yet",
        "figures": "Figures", "notes": "Sources and notes", "method": "Method",
        "claim": "Claim", "verdict": "Verdict", "evidence": "Evidence (✓ agrees, ✗ disagrees)", "back": "Back to the text",
    },
    "ko": {
        "intro": "들어가며", "infrastructure": "기술 인프라", "industry": "산업 생태계",
        "policy": "정책과 시민 참여", "trust": "신뢰와 미래 대비",
        "trends": "변화의 속도와 안정성", "conclusion": "어느 도시가 누구에게 맞는가",
        "claims": "에세이의 주장과 데이터", "gaps": "아직 데이터가 말해 주지 못하는 것",
        "figures": "그림", "notes": "출처와 주", "method": "방법",
        "claim": "주장", "verdict": "판정", "evidence": "근거(✓ 부합, ✗ 불일치)", "back": "본문으로 돌아가기",
    },
    "ja": {
        "intro": "はじめに", "infrastructure": "技術インフラ", "industry": "産業エコシステム",
        "policy": "政策と市民参加", "trust": "信頼と将来への備え",
        "trends": "変化の速さと安定性", "conclusion": "どの都市が誰に向いているか",
        "claims": "エッセイの主張とデータ", "gaps": "データがまだ語れないこと",
        "figures": "図", "notes": "出典と注", "method": "方法",
        "claim": "主張", "verdict": "判定", "evidence": "根拠（✓ 一致、✗ 不一致）", "back": "本文に戻る",
    },
}

# Country names by ISO 3166 code, where a page names the country a national figure stands in
# from (English keeps the data's own name).
COUNTRY_NAMES: dict[str, dict[str, str]] = {
    "ko": {"AE": "아랍에미리트", "AU": "호주", "BR": "브라질", "CA": "캐나다", "CH": "스위스", "CN": "중국", "CZ": "체코",
           "DE": "독일", "DK": "덴마크", "ES": "스페인", "FI": "핀란드", "FR": "프랑스", "GB": "영국", "HK": "홍콩",
           "ID": "인도네시아", "IL": "이스라엘", "IN": "인도", "JP": "일본", "KR": "한국", "NL": "네덜란드", "NO": "노르웨이",
           "SE": "스웨덴", "SG": "싱가포르", "US": "미국", "ZA": "남아프리카공화국"},
    "ja": {"AE": "アラブ首長国連邦", "AU": "オーストラリア", "BR": "ブラジル", "CA": "カナダ", "CH": "スイス", "CN": "中国",
           "CZ": "チェコ", "DE": "ドイツ", "DK": "デンマーク", "ES": "スペイン", "FI": "フィンランド", "FR": "フランス",
           "GB": "イギリス", "HK": "香港", "ID": "インドネシア", "IL": "イスラエル", "IN": "インド", "JP": "日本", "KR": "韓国",
           "NL": "オランダ", "NO": "ノルウェー", "SE": "スウェーデン", "SG": "シンガポール", "US": "アメリカ", "ZA": "南アフリカ"},
}


def country_name(code: object, lang: str, fallback: str) -> str:
    """The country `code` (ISO 3166) in `lang`; `fallback` (the data's own name) in English or
    for a country the catalogue lacks."""
    return COUNTRY_NAMES.get(lang, {}).get(str(code), fallback)


VERDICTS: dict[str, dict[str, str]] = {
    "en": {"supported": "supported", "contradicted": "contradicted", "mixed": "mixed", "not enough data": "not enough data", "tied": "tied"},
    "ko": {"supported": "뒷받침됨", "contradicted": "어긋남", "mixed": "엇갈림", "not enough data": "자료 부족", "tied": "동점"},
    "ja": {"supported": "裏付けあり", "contradicted": "矛盾", "mixed": "一部のみ裏付け", "not enough data": "データ不足", "tied": "同点"},
}

METHOD_NAMES: dict[str, dict[str, str]] = {
    "minmax": {"en": "min-max", "ko": "최소-최대", "ja": "最小最大"},
    "zscore": {"en": "z-score", "ko": "z-점수", "ja": "zスコア"},
    "rank": {"en": "rank", "ko": "순위", "ja": "順位"},
    "percentile": {"en": "percentile", "ko": "백분위", "ja": "パーセンタイル"},
    "arithmetic": {"en": "arithmetic", "ko": "산술", "ja": "算術"},
    "geometric": {"en": "geometric", "ko": "기하", "ja": "幾何"},
    "harmonic": {"en": "harmonic", "ko": "조화", "ja": "調和"},
    "generalised_mean": {"en": "generalised", "ko": "일반화", "ja": "一般化"},
    "sum": {"en": "sum", "ko": "합계", "ja": "合計"},
    "copeland": {"en": "Copeland", "ko": "코플랜드", "ja": "コープランド"},
    "product": {"en": "weighted product", "ko": "가중 곱", "ja": "加重積"},
    "topsis": {"en": "TOPSIS", "ko": "TOPSIS", "ja": "TOPSIS"},
    "bod": {"en": "benefit-of-the-doubt", "ko": "BoD(편익 우선 가중)", "ja": "BoD（有利な重み付け）"},
    "vector": {"en": "vector", "ko": "벡터", "ja": "ベクトル"},
    "borda": {"en": "Borda", "ko": "보르다", "ja": "ボルダ"},
    "fracmax": {"en": "fraction-of-maximum", "ko": "최댓값 대비 비율", "ja": "最大値比"},
    "dist2max": {"en": "distance-to-maximum", "ko": "최댓값까지의 거리", "ja": "最大値との距離"},
    "dist2target": {"en": "distance-to-target", "ko": "목표까지의 거리", "ja": "目標との距離"},
    "goalposts": {"en": "goalpost", "ko": "골포스트", "ja": "ゴールポスト"},
    "none": {"en": "no", "ko": "없음", "ja": "なし"},
    "mean": {"en": "the mean", "ko": "평균", "ja": "平均"},
    "median": {"en": "the median", "ko": "중앙값", "ja": "中央値"},
    "group_mean": {"en": "the group mean", "ko": "집단 평균", "ja": "グループ平均"},
    "group_median": {"en": "the group median", "ko": "집단 중앙값", "ja": "グループ中央値"},
    "knn": {"en": "the k nearest units", "ko": "k-최근접 이웃", "ja": "k近傍法"},
    "iterative": {"en": "chained regressions", "ko": "연쇄 회귀", "ja": "連鎖回帰"},
}

# How each transform is named in the Method section
TRANSFORM_NAMES: dict[str, dict[str, str]] = {
    "log": {"en": "natural logarithm", "ko": "자연로그", "ja": "自然対数"},
    "log10": {"en": "base-10 logarithm", "ko": "상용로그", "ja": "常用対数"},
    "log1p": {"en": "ln(1 + x)", "ko": "ln(1 + x)", "ja": "ln(1 + x)"},
    "sqrt": {"en": "square root", "ko": "제곱근", "ja": "平方根"},
    "cbrt": {"en": "cube root", "ko": "세제곱근", "ja": "立方根"},
    "inverse": {"en": "reciprocal, 1/x", "ko": "역수 1/x", "ja": "逆数1/x"},}


# how a derived value's source text introduces its licence (aicity.derive writes the English;
# a report shows the label in its language, the licence text as the data gives it)
LICENCE_LABELS = {"en": "licence: ", "ko": "이용 조건: ", "ja": "利用条件："}
