package gen

import "qiandun/internal/civil"

import "math/rand/v2"

// province is a provincial-level division with the GB/T 2260 two-digit
// code that opens an ID number, and some of its cities.
type province struct {
	code   int
	name   string
	weight float64 // share of borrowers born there
	cities []city
}

// city is a prefecture-level city: its four-digit GB/T 2260 prefix and the
// tier lenders use (1 = Beijing/Shanghai/Guangzhou/Shenzhen ... 4 = small).
type city struct {
	code int
	name string
	tier int
}

func provinces() []province {
	return []province{
		{11, "北京市", 1.2, []city{{1101, "北京市", 1}}},
		{12, "天津市", 0.9, []city{{1201, "天津市", 2}}},
		{13, "河北省", 5.0, []city{{1301, "石家庄市", 3}, {1302, "唐山市", 3}, {1306, "保定市", 3}, {1309, "沧州市", 4}}},
		{14, "山西省", 2.5, []city{{1401, "太原市", 3}, {1402, "大同市", 4}, {1408, "运城市", 4}}},
		{15, "内蒙古自治区", 1.7, []city{{1501, "呼和浩特市", 3}, {1502, "包头市", 4}}},
		{21, "辽宁省", 3.0, []city{{2101, "沈阳市", 2}, {2102, "大连市", 2}, {2103, "鞍山市", 4}}},
		{22, "吉林省", 1.7, []city{{2201, "长春市", 3}, {2202, "吉林市", 4}}},
		{23, "黑龙江省", 2.3, []city{{2301, "哈尔滨市", 2}, {2306, "大庆市", 4}}},
		{31, "上海市", 1.3, []city{{3101, "上海市", 1}}},
		{32, "江苏省", 6.0, []city{{3201, "南京市", 2}, {3205, "苏州市", 2}, {3202, "无锡市", 2}, {3203, "徐州市", 3}}},
		{33, "浙江省", 4.5, []city{{3301, "杭州市", 2}, {3302, "宁波市", 2}, {3303, "温州市", 3}, {3307, "金华市", 3}}},
		{34, "安徽省", 4.8, []city{{3401, "合肥市", 2}, {3402, "芜湖市", 3}, {3412, "阜阳市", 4}}},
		{35, "福建省", 3.0, []city{{3501, "福州市", 2}, {3502, "厦门市", 2}, {3505, "泉州市", 3}}},
		{36, "江西省", 3.4, []city{{3601, "南昌市", 3}, {3607, "赣州市", 4}, {3609, "宜春市", 4}}},
		{37, "山东省", 7.0, []city{{3701, "济南市", 2}, {3702, "青岛市", 2}, {3707, "潍坊市", 3}, {3713, "临沂市", 3}}},
		{41, "河南省", 7.0, []city{{4101, "郑州市", 2}, {4103, "洛阳市", 3}, {4113, "南阳市", 4}, {4116, "周口市", 4}}},
		{42, "湖北省", 4.2, []city{{4201, "武汉市", 2}, {4205, "宜昌市", 3}, {4206, "襄阳市", 3}}},
		{43, "湖南省", 4.8, []city{{4301, "长沙市", 2}, {4304, "衡阳市", 4}, {4307, "常德市", 4}}},
		{44, "广东省", 8.0, []city{{4401, "广州市", 1}, {4403, "深圳市", 1}, {4419, "东莞市", 2}, {4406, "佛山市", 2}, {4413, "惠州市", 3}}},
		{45, "广西壮族自治区", 3.5, []city{{4501, "南宁市", 3}, {4502, "柳州市", 4}, {4503, "桂林市", 4}}},
		{46, "海南省", 0.7, []city{{4601, "海口市", 3}, {4602, "三亚市", 3}}},
		{50, "重庆市", 2.3, []city{{5001, "重庆市", 2}}},
		{51, "四川省", 6.0, []city{{5101, "成都市", 1}, {5107, "绵阳市", 3}, {5113, "南充市", 4}}},
		{52, "贵州省", 2.7, []city{{5201, "贵阳市", 3}, {5203, "遵义市", 4}}},
		{53, "云南省", 3.3, []city{{5301, "昆明市", 3}, {5303, "曲靖市", 4}}},
		{54, "西藏自治区", 0.2, []city{{5401, "拉萨市", 4}}},
		{61, "陕西省", 2.8, []city{{6101, "西安市", 2}, {6104, "咸阳市", 4}}},
		{62, "甘肃省", 1.8, []city{{6201, "兰州市", 3}, {6205, "天水市", 4}}},
		{63, "青海省", 0.4, []city{{6301, "西宁市", 4}}},
		{64, "宁夏回族自治区", 0.5, []city{{6401, "银川市", 4}}},
		{65, "新疆维吾尔自治区", 1.8, []city{{6501, "乌鲁木齐市", 3}, {6502, "克拉玛依市", 4}}},
	}
}

// tier-1 and tier-2 cities that migrants move to, as (province index, city index)
// pairs filled in by newPlaces.
type places struct {
	provs    []province
	cum      []float64 // cumulative birth weights
	hubs     [][2]int  // big cities that attract borrowers born elsewhere
	nameCity [][]string
}

func newPlaces() *places {
	p := &places{provs: provinces()}
	total := 0.0
	for i, pr := range p.provs {
		total += pr.weight
		p.cum = append(p.cum, total)
		names := make([]string, len(pr.cities))
		for j, c := range pr.cities {
			if c.tier <= 2 {
				p.hubs = append(p.hubs, [2]int{i, j})
			}
			if pr.name == c.name { // municipalities: 北京市 not 北京市北京市
				names[j] = c.name
			} else {
				names[j] = pr.name + c.name
			}
		}
		p.nameCity = append(p.nameCity, names)
	}
	for i := range p.cum {
		p.cum[i] /= total
	}
	return p
}

// pickProvince draws a birth province by population weight.
func (p *places) pickProvince(r *rand.Rand) int {
	u := r.Float64()
	for i, c := range p.cum {
		if u < c {
			return i
		}
	}
	return len(p.cum) - 1
}

// Common surnames (roughly by frequency) and given-name characters.
var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
		"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
		"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
		"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯"}
	givenMale = []string{"伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "斌", "辉", "刚", "鹏", "华", "飞", "波", "浩", "宇", "俊",
		"峰", "建", "国", "志", "文", "海", "东", "亮", "林", "凯", "晨", "博", "鑫", "帅", "龙", "鹏", "成", "平", "阳", "坤"}
	givenFemale = []string{"芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "颖", "琳", "倩", "洁", "梅", "欣", "月",
		"佳", "媛", "蕾", "萍", "红", "琴", "云", "莉", "丹", "悦", "瑶", "怡", "璐", "晶", "岚", "蓉", "菲", "薇", "雯", "秀"}
)

// appendName appends a Chinese name: a surname and one or two given characters.
func appendName(b []byte, r *rand.Rand, male bool) []byte {
	b = append(b, surnames[r.IntN(len(surnames))]...)
	given := givenFemale
	if male {
		given = givenMale
	}
	b = append(b, given[r.IntN(len(given))]...)
	if r.IntN(10) < 7 {
		b = append(b, given[r.IntN(len(given))]...)
	}
	return b
}

// GB 11643 weights and check characters.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idChecks  = "10X98765432"
)

// IDCheckChar returns the GB 11643-1999 check character of the first 17
// digits of an ID number.
func IDCheckChar(first17 []byte) byte {
	s := 0
	for i := 0; i < 17; i++ {
		s += int(first17[i]-'0') * idWeights[i]
	}
	return idChecks[s%11]
}

// IDValid reports whether an 18-character ID number has a valid GB 11643
// check character.
func IDValid(id string) bool {
	if len(id) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return IDCheckChar([]byte(id)) == id[17]
}

// makeID builds an 18-character ID number: six-digit area code, birth date
// YYYYMMDD, two sequence digits, a gender digit (odd = male) and the check
// character; when badCheck it carries a wrong check character.
func makeID(r *rand.Rand, cityCode int, birthDay int, male, badCheck bool) string {
	var b [18]byte
	area := cityCode*100 + 1 + r.IntN(18)
	for i := 5; i >= 0; i-- {
		b[i] = byte('0' + area%10)
		area /= 10
	}
	y, m, d := civil.Date(birthDay)
	date := y*10000 + m*100 + d
	for i := 13; i >= 6; i-- {
		b[i] = byte('0' + date%10)
		date /= 10
	}
	seq := r.IntN(100)
	b[14], b[15] = byte('0'+seq/10), byte('0'+seq%10)
	g := 2 * r.IntN(5)
	if male {
		g++
	}
	b[16] = byte('0' + g)
	c := IDCheckChar(b[:17])
	if badCheck {
		wrong := idChecks[r.IntN(len(idChecks))]
		for wrong == c {
			wrong = idChecks[r.IntN(len(idChecks))]
		}
		c = wrong
	}
	b[17] = c
	return string(b[:])
}

// appendPhone appends a mainland mobile number 1[3-9]xxxxxxxxx.
func appendPhone(b []byte, r *rand.Rand) []byte {
	b = append(b, '1', byte('3'+r.IntN(7)))
	return appendPadded(b, uint64(r.IntN(1_000_000_000)), 9)
}

func appendHex(b []byte, v uint64, n int) []byte {
	const hexd = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexd[(v>>(4*uint(i)))&15])
	}
	return b
}

// appendIP appends a dotted IPv4 address from a 32-bit value, avoiding
// the reserved first octets.
func appendIP(b []byte, v uint32) []byte {
	a := 36 + (v>>24)%180
	b = appendUint(b, uint64(a))
	b = append(b, '.')
	b = appendUint(b, uint64((v>>16)&255))
	b = append(b, '.')
	b = appendUint(b, uint64((v>>8)&255))
	b = append(b, '.')
	return appendUint(b, uint64(1+(v&255)%254))
}
