"""Korean translations, kept as data and written into translations/ko/LC_MESSAGES/messages.po by
``python translations/ko_messages.py`` (merge with the template so new strings show up)."""

KO = {
    "% of balance": "잔고 대비 %",
    "A bracket entry is a market or limit order": "브래킷 진입 주문은 시장가 또는 지정가여야 합니다",
    "A limit price is required": "지정가를 입력해야 합니다",
    "A post-only order must be good-till-cancelled": "포스트 온리 주문은 GTC여야 합니다",
    "A trailing distance above zero is required": "0보다 큰 트레일링 간격을 입력해야 합니다",
    "A trigger price is required": "트리거 가격을 입력해야 합니다",
    "API key": "API 키",
    "Activity": "활동 기록",
    "Add alert": "알림 추가",
    "Alert": "알림",
    "Alerts": "알림",
    "Allocation": "비중",
    "Also close all positions at market": "모든 포지션도 시장가로 청산",
    "Amount": "수량",
    "Amount must be above zero": "수량은 0보다 커야 합니다",
    "Amount {qty} is above the maximum {max} {base}": "수량 {qty}이(가) 최대 {max} {base}보다 많습니다",
    "Amount {qty} is below the minimum {min} {base}": "수량 {qty}이(가) 최소 {min} {base}보다 적습니다",
    "Amount {qty} is not a multiple of the lot step {step} {base} (nearest: {nearest})":
        "수량 {qty}이(가) 수량 단위 {step} {base}의 배수가 아닙니다 (가까운 값: {nearest})",
    "Amount {qty} {base} is above the limit of {limit} {base} per order":
        "수량 {qty} {base}이(가) 주문당 한도 {limit} {base}를 넘습니다",
    "An unexpected error happened. Your orders are safe: everything is saved before it is shown. "
    "Details are in the log file:\n{path}":
        "예기치 않은 오류가 발생했습니다. 모든 내용은 표시되기 전에 저장되므로 주문은 안전합니다. "
        "자세한 내용은 로그 파일에 있습니다:\n{path}",
    "Apply limits": "한도 적용",
    "Asset": "자산",
    "Available": "사용 가능",
    "Avg cost": "평균 단가",
    "Base": "기준 자산",
    "Bracket (entry + take profit + stop loss)": "브래킷 (진입 + 익절 + 손절)",
    "Buy": "매수",
    "C": "종",
    "Cancel": "취소",
    "Cancel all": "전체 취소",
    "Don't ask again until the app is closed": "앱을 닫을 때까지 다시 묻지 않기",
    "Loading {symbol} {tf} history": "{symbol} {tf} 과거 데이터 불러오는 중",
    "Cancel every open order and close every position at market?": "모든 미체결 주문을 취소하고 모든 포지션을 시장가로 청산할까요?",
    "Cancel selected": "선택 취소",
    "Cancelled": "취소됨",
    "Cancelling": "취소 중",
    "Cancels per day": "일일 취소 횟수",
    "Confirm order": "주문 확인",
    "Cursor": "커서",
    "DEMO": "데모",
    "Daily limit of {limit} {what}s reached": "일일 한도 {limit}회({what})에 도달했습니다",
    "Daily loss limit": "일일 손실 한도",
    "Dark": "어두운 테마",
    "Dark theme": "어두운 테마",
    "Data folder": "데이터 폴더",
    "Enter a number above zero": "0보다 큰 숫자를 입력하세요",
    "Enter both the API key and the secret": "API 키와 시크릿을 모두 입력하세요",
    "Enter the {what}": "{what}을(를) 입력하세요",
    "Entry": "진입",
    "Entry price": "진입 가격",
    "Equity {equity} {ccy} · unrealized {u} · realized {r} · today {d}":
        "평가 자산 {equity} {ccy} · 미실현 {u} · 실현 {r} · 오늘 {d}",
    "Expired": "만료됨",
    "Fat-finger band (% from last)": "가격 오입력 방지 범위 (최근가 대비 %)",
    "Fee": "수수료",
    "Fees": "수수료",
    "Filled": "체결됨",
    "Fills": "체결 내역",
    "For a buy OCO the limit price must be below the last price and the stop price above it "
    "(limit {limit} < last {last} < stop {stop})":
        "매수 OCO는 지정가가 최근가보다 낮고 스톱 가격이 최근가보다 높아야 합니다 "
        "(지정가 {limit} < 최근가 {last} < 스톱 {stop})",
    "For a sell OCO the limit price must be above the last price and the stop price below it "
    "(limit {limit} > last {last} > stop {stop})":
        "매도 OCO는 지정가가 최근가보다 높고 스톱 가격이 최근가보다 낮아야 합니다 "
        "(지정가 {limit} > 최근가 {last} > 스톱 {stop})",
    "Group": "그룹",
    "H": "고",
    "IOC and FOK apply to limit and market orders only": "IOC와 FOK는 지정가와 시장가 주문에만 쓸 수 있습니다",
    "Id": "ID",
    "KILL SWITCH — cancel all orders": "긴급 정지 — 모든 주문 취소",
    "Kill switch": "긴급 정지",
    "Kill switch: {c} orders cancelled, {f} positions closed. Trading is halted until you re-arm it.":
        "긴급 정지: 주문 {c}건 취소, 포지션 {f}건 청산. 다시 활성화할 때까지 거래가 중지됩니다.",
    "L": "저",
    "LIVE": "실거래",
    "Language": "언어",
    "Light": "밝은 테마",
    "Light theme": "밝은 테마",
    "Limit": "지정가",
    "Limit (take profit)": "지정가 (익절)",
    "Limit price": "지정가",
    "Limits saved": "한도를 저장했습니다",
    "Mark": "현재가",
    "Market": "시장가",
    "Max open orders": "최대 미체결 주문 수",
    "Max order value": "주문당 최대 금액",
    "Max position per asset": "자산별 최대 포지션",
    "Move order": "주문 이동",
    "Move {side} {type} {qty} from {old} to {new}?": "{side} {type} {qty} 주문을 {old}에서 {new}(으)로 옮길까요?",
    "Moves by % within": "기간 내 % 변동",
    "No key saved": "저장된 키가 없습니다",
    "No last price yet to check the bracket": "브래킷을 확인할 최근가가 아직 없습니다",
    "No last price yet: an OCO needs one to check its prices": "아직 최근가가 없습니다: OCO 가격 확인에 필요합니다",
    "No system keyring is available: API keys cannot be saved on this computer.":
        "시스템 키링을 사용할 수 없어 이 컴퓨터에는 API 키를 저장할 수 없습니다.",
    "Not enough {asset}: this order needs {need} {asset} with fees, {free} {asset} is free":
        "{asset} 부족: 이 주문에는 수수료 포함 {need} {asset}이(가) 필요하지만 사용 가능한 금액은 {free} {asset}입니다",
    "Not enough {asset}: this order sells {need} {asset}, {free} {asset} is free":
        "{asset} 부족: 이 주문은 {need} {asset}을(를) 매도하지만 사용 가능한 수량은 {free} {asset}입니다",
    "Notification": "알림 내용",
    "O": "시",
    "OCO (one cancels the other)": "OCO (하나 체결 시 다른 주문 취소)",
    "Only orders that reduce a position are allowed: {why}": "포지션을 줄이는 주문만 허용됩니다: {why}",
    "Open": "미체결",
    "Open orders": "미체결 주문",
    "Open orders ({n})": "미체결 주문 ({n})",
    "Order": "주문",
    "Order book": "호가창",
    "Order filled": "주문 체결",
    "Order history": "주문 내역",
    "Order partly filled": "주문 부분 체결",
    "Order refused": "주문 거부",
    "Order rejected by the exchange": "거래소가 주문을 거부했습니다",
    "Order sent": "주문을 보냈습니다",
    "Order ticket": "주문",
    "Order type": "주문 유형",
    "Order value {value} is above the limit of {limit} per order": "주문 금액 {value}이(가) 주문당 한도 {limit}을(를) 넘습니다",
    "Order value {value} {quote} is above the maximum {max} {quote}": "주문 금액 {value} {quote}이(가) 최대 {max} {quote}보다 큽니다",
    "Order value {value} {quote} is below the minimum {min} {quote}": "주문 금액 {value} {quote}이(가) 최소 {min} {quote}보다 작습니다",
    "Orders": "주문",
    "Orders per day": "일일 주문 수",
    "Orders per second": "초당 주문 수",
    "P&L today: {pnl}": "오늘 손익: {pnl}",
    "P&L {pnl}": "손익 {pnl}",
    "PAPER": "모의 거래",
    "Partly filled": "부분 체결",
    "Passphrase": "암호 문구",
    "Percent": "퍼센트",
    "Portfolio": "포트폴리오",
    "Position": "포지션",
    "Post-only": "포스트 온리",
    "Post-only is for limit orders only": "포스트 온리는 지정가 주문에만 쓸 수 있습니다",
    "Price": "가격",
    "Price crosses above": "가격 상향 돌파",
    "Price crosses below": "가격 하향 돌파",
    "Price {price} is {dev}% away from the last price {last}; the limit is {limit}% (a fat-finger check)":
        "가격 {price}이(가) 최근가 {last}에서 {dev}% 떨어져 있습니다. 한도는 {limit}%입니다 (오입력 방지)",
    "Quote": "결제 자산",
    "Re-arm trading": "거래 다시 활성화",
    "Realized P&L": "실현 손익",
    "Reconciled with {venue}: {n} change(s)": "{venue}와(과) 대사 완료: 변경 {n}건",
    "Refused: {reason}": "거부됨: {reason}",
    "Rejected": "거부됨",
    "Remove key": "키 삭제",
    "Remove selected alert": "선택한 알림 삭제",
    "Risk": "리스크",
    "Role": "구분",
    "Save key": "키 저장",
    "Saved in the system keyring": "시스템 키링에 저장됨",
    "Secret": "시크릿",
    "Sell": "매도",
    "Send this order to the exchange?": "이 주문을 거래소로 보낼까요?",
    "Sending": "전송 중",
    "Sending…": "전송 중…",
    "Settings": "설정",
    "Side": "구분",
    "Something went wrong": "문제가 발생했습니다",
    "Spread {spread}": "스프레드 {spread}",
    "State": "상태",
    "Status": "상태",
    "Stop limit": "스톱 지정가",
    "Stop loss": "손절가",
    "Stop market": "스톱 시장가",
    "Stop trigger": "스톱 트리거",
    "Stop-limit price": "스톱 지정가",
    "Symbol": "종목",
    "Take profit": "익절가",
    "Take profit limit": "익절 지정가",
    "Take profit market": "익절 시장가",
    "The position in {base} would be worth {value}, above the limit of {limit}": "{base} 포지션이 {value}이(가) 되어 한도 {limit}을(를) 넘습니다",
    "The same order was sent {n} times in {s} seconds; refused as a probable mistake":
        "같은 주문이 {s}초 안에 {n}번 전송되어 실수로 보고 거부했습니다",
    "The stop-limit price {price} should be at or beyond the stop price {stop}, or the order may never fill":
        "스톱 지정가 {price}은(는) 스톱 가격 {stop}과 같거나 그보다 불리해야 합니다. 그렇지 않으면 체결되지 않을 수 있습니다",
    "The system keyring refused the key; it was not saved": "시스템 키링이 키를 거부하여 저장하지 못했습니다",
    "Theme": "테마",
    "This order type takes no limit price": "이 주문 유형에는 지정가가 없습니다",
    "This order type takes no trigger price": "이 주문 유형에는 트리거 가격이 없습니다",
    "Time": "시간",
    "Time in force": "유효 기간",
    "Too many {what}s: at most {limit} per second": "{what} 요청이 너무 많습니다: 초당 최대 {limit}회",
    "Total": "누적",
    "Trades": "체결",
    "Trading is halted (kill switch). Re-arm trading in the risk panel to place orders":
        "거래가 중지되었습니다 (긴급 정지). 주문하려면 리스크 패널에서 거래를 다시 활성화하세요",
    "Trading re-armed": "거래를 다시 활성화했습니다",
    "Trading: ACTIVE": "거래: 활성",
    "Trading: HALTED": "거래: 중지",
    "Trading: REDUCING ONLY": "거래: 축소만 허용",
    "Trailing distance": "트레일링 간격",
    "Trailing distance {value} is not a multiple of the tick size {tick}": "트레일링 간격 {value}이(가) 호가 단위 {tick}의 배수가 아닙니다",
    "Trailing distance {value}% must be between 0.01% and 50%": "트레일링 간격 {value}%는 0.01%에서 50% 사이여야 합니다",
    "Trailing stop": "트레일링 스톱",
    "Trigger": "트리거",
    "Trigger price": "트리거 가격",
    "Trigger price {stop} must be above the last price {last} for this order": "이 주문의 트리거 가격 {stop}은(는) 최근가 {last}보다 높아야 합니다",
    "Trigger price {stop} must be below the last price {last} for this order": "이 주문의 트리거 가격 {stop}은(는) 최근가 {last}보다 낮아야 합니다",
    "Type": "유형",
    "Unknown symbol {symbol}": "알 수 없는 종목 {symbol}",
    "Unrealized P&L": "미실현 손익",
    "V": "량",
    "Value": "평가액",
    "Venue: {venue}": "거래소: {venue}",
    "active": "활성",
    "amount": "수량",
    "entry": "진입",
    "fired {when}": "{when} 발생",
    "latency {ms} ms": "지연 {ms} ms",
    "limit leg": "지정가 주문",
    "maker": "메이커",
    "min": "분",
    "off": "끔",
    "percent, e.g. 1.5": "퍼센트, 예: 1.5",
    "price": "가격",
    "stop leg": "스톱 주문",
    "stop-limit price": "스톱 지정가",
    "symbol": "종목",
    "take-profit price": "익절가",
    "taker": "테이커",
    "the daily loss limit was reached": "일일 손실 한도에 도달했습니다",
    "trailing distance": "트레일링 간격",
    "trigger price": "트리거 가격",
    "{field} must be above zero": "{field}은(는) 0보다 커야 합니다",
    "{field} {price} is not a multiple of the tick size {tick} {quote} (nearest: {nearest})":
        "{field} {price}이(가) 호가 단위 {tick} {quote}의 배수가 아닙니다 (가까운 값: {nearest})",
    "{field} {price} is outside the exchange's allowed band {low} – {high} {quote}":
        "{field} {price}이(가) 거래소 허용 범위 {low} – {high} {quote}를 벗어났습니다",
    "{n} orders are open already; the limit is {limit}": "이미 {n}개의 주문이 열려 있습니다. 한도는 {limit}개입니다",
    "{symbol} crosses above {price}": "{symbol} {price} 상향 돌파",
    "{symbol} crosses below {price}": "{symbol} {price} 하향 돌파",
    "{symbol} moves {pct}% within {m} min": "{symbol} {m}분 내 {pct}% 변동",
    "{venue} is not connected or still reconciling": "{venue}에 연결되지 않았거나 아직 대사 중입니다",
    "{venue}: connected": "{venue}: 연결됨",
    "{venue}: waiting for data": "{venue}: 데이터 대기 중",
    "{what} is not a number": "{what}이(가) 숫자가 아닙니다",
    "{what}: enter a number above zero, or leave it empty to switch the rule off":
        "{what}: 0보다 큰 숫자를 입력하거나, 규칙을 끄려면 비워 두세요",
    "≈ {qty} {base} · value {value} {quote} · fee ≈ {fee} {quote}": "≈ {qty} {base} · 금액 {value} {quote} · 수수료 ≈ {fee} {quote}",
}


def main() -> None:
    from pathlib import Path

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    here = Path(__file__).resolve().parent
    with (here / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    cat = Catalog(locale="ko", project="AutoGrowth Trader", charset="utf-8")
    missing = []
    for msg in template:
        if not msg.id:
            continue
        text = KO.get(msg.id)
        if text is None:
            missing.append(msg.id)
        cat.add(msg.id, text or "", flags=() if text else ("fuzzy",))
    out = here / "ko" / "LC_MESSAGES" / "messages.po"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        write_po(fh, cat, width=120, sort_output=True)
    print(f"{len(KO)} translations; missing: {missing}")


if __name__ == "__main__":
    main()
