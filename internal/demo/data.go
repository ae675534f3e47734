package demo

// The static material the generator draws from: Moscow districts with their real streets,
// client companies, equipment catalogues, typical faults and Russian names. Everything here
// is fiction dressed as a real city: the companies do not exist, the streets do.

// Moscow box the generated points stay inside (with a small margin).
const (
	minLat, maxLat = 55.57, 55.91
	minLng, maxLng = 37.37, 37.85
)

type zone int

const (
	central zone = iota // inside the Garden Ring and the business districts around it
	middle              // between the Garden Ring and the Third Ring / big avenues
	outer               // residential districts towards the MKAD
)

type district struct {
	name     string
	lat, lng float64
	zone     zone
	streets  []string
}

// districts are real Moscow districts with approximate centres and streets that run
// through them. Sites and engineers' home bases cluster around these centres.
var districts = []district{
	{"Тверской", 55.7660, 37.6050, central, []string{"ул. Тверская", "ул. Петровка", "ул. Большая Дмитровка", "Страстной б-р", "ул. Малая Дмитровка"}},
	{"Арбат", 55.7500, 37.5920, central, []string{"ул. Арбат", "ул. Новый Арбат", "Гоголевский б-р", "Смоленская пл."}},
	{"Замоскворечье", 55.7360, 37.6290, central, []string{"ул. Большая Ордынка", "ул. Пятницкая", "ул. Большая Полянка", "ул. Валовая"}},
	{"Басманный", 55.7640, 37.6650, central, []string{"ул. Мясницкая", "ул. Покровка", "ул. Новая Басманная", "ул. Маросейка"}},
	{"Пресненский", 55.7490, 37.5420, central, []string{"Пресненская наб.", "ул. Тестовская", "ул. 1905 года", "ул. Красная Пресня"}},
	{"Хамовники", 55.7290, 37.5780, central, []string{"Комсомольский пр-т", "ул. Льва Толстого", "ул. Пречистенка", "ул. Плющиха"}},
	{"Таганский", 55.7410, 37.6600, central, []string{"ул. Таганская", "ул. Марксистская", "ул. Земляной Вал", "ул. Народная"}},
	{"Мещанский", 55.7800, 37.6320, central, []string{"пр-т Мира", "ул. Гиляровского", "ул. Сретенка", "Олимпийский пр-т"}},
	{"Беговой", 55.7830, 37.5650, middle, []string{"Ленинградский пр-т", "ул. Беговая", "ул. Поликарпова", "Хорошёвское ш."}},
	{"Савёловский", 55.7950, 37.5860, middle, []string{"ул. Новослободская", "Бутырская ул.", "ул. Сущёвский Вал", "Савёловский пр."}},
	{"Аэропорт", 55.8000, 37.5330, middle, []string{"Ленинградский пр-т", "ул. Часовая", "Ходынский б-р", "ул. Викторенко"}},
	{"Сокольники", 55.7900, 37.6780, middle, []string{"ул. Русаковская", "ул. Стромынка", "Сокольническая пл.", "ул. Шумкина"}},
	{"Лефортово", 55.7560, 37.7050, middle, []string{"ул. Авиамоторная", "ул. Красноказарменная", "ул. Танкистов", "Лефортовский Вал"}},
	{"Останкинский", 55.8180, 37.6150, middle, []string{"ул. Академика Королёва", "пр-т Мира", "ул. Шереметьевская", "ул. Бочкова"}},
	{"Гагаринский", 55.7040, 37.5570, middle, []string{"Ленинский пр-т", "ул. Вавилова", "ул. Косыгина", "ул. Губкина"}},
	{"Даниловский", 55.7100, 37.6280, middle, []string{"ул. Ленинская Слобода", "ул. Автозаводская", "Варшавское ш.", "ул. Мытная"}},
	{"Нагатино-Садовники", 55.6820, 37.6480, middle, []string{"Нагатинская ул.", "пр-т Андропова", "Каширское ш.", "ул. Садовники"}},
	{"Фили-Давыдково", 55.7400, 37.4750, middle, []string{"Кутузовский пр-т", "Большая Филёвская ул.", "ул. Барклая", "ул. Кременчугская"}},
	{"Измайлово", 55.7900, 37.7800, outer, []string{"Измайловский пр-т", "Первомайская ул.", "3-я Парковая ул.", "Измайловский б-р"}},
	{"Перово", 55.7510, 37.7800, outer, []string{"ул. Перовская", "Зелёный пр-т", "ш. Энтузиастов", "ул. Плеханова"}},
	{"Выхино-Жулебино", 55.7080, 37.8150, outer, []string{"Рязанский пр-т", "Ферганская ул.", "ул. Вешняковская", "Лермонтовский пр-т"}},
	{"Кузьминки", 55.6950, 37.7700, outer, []string{"Волгоградский пр-т", "ул. Юных Ленинцев", "ул. Зеленодольская", "Жигулёвская ул."}},
	{"Люблино", 55.6800, 37.7450, outer, []string{"ул. Люблинская", "Краснодарская ул.", "ул. Совхозная", "ул. Ставропольская"}},
	{"Марьино", 55.6520, 37.7430, outer, []string{"Братиславская ул.", "ул. Перерва", "Мячковский б-р", "ул. Поречная"}},
	{"Братеево", 55.6370, 37.7620, outer, []string{"Братеевская ул.", "Ключевая ул.", "ул. Борисовские Пруды", "Алма-Атинская ул."}},
	{"Царицыно", 55.6210, 37.6800, outer, []string{"Луганская ул.", "Кантемировская ул.", "Бакинская ул.", "Каспийская ул."}},
	{"Чертаново", 55.6150, 37.6050, outer, []string{"Балаклавский пр-т", "Чертановская ул.", "Варшавское ш.", "Кировоградская ул."}},
	{"Бирюлёво", 55.5950, 37.6650, outer, []string{"Липецкая ул.", "Булатниковская ул.", "ул. Лебедянская", "Элеваторная ул."}},
	{"Ясенево", 55.6060, 37.5350, outer, []string{"Новоясеневский пр-т", "ул. Паустовского", "Литовский б-р", "ул. Вильнюсская"}},
	{"Тёплый Стан", 55.6320, 37.5000, outer, []string{"ул. Профсоюзная", "ул. Тёплый Стан", "Ленинский пр-т", "ул. Островитянова"}},
	{"Черёмушки", 55.6700, 37.5650, outer, []string{"Профсоюзная ул.", "Севастопольский пр-т", "ул. Новочерёмушкинская", "ул. Гарибальди"}},
	{"Раменки", 55.6980, 37.5000, outer, []string{"Мичуринский пр-т", "ул. Раменки", "Ломоносовский пр-т", "ул. Винницкая"}},
	{"Кунцево", 55.7300, 37.4300, outer, []string{"Рублёвское ш.", "Можайское ш.", "ул. Ивана Франко", "ул. Академика Павлова"}},
	{"Крылатское", 55.7620, 37.4150, outer, []string{"Осенний б-р", "ул. Крылатские Холмы", "Рублёвское ш.", "Крылатская ул."}},
	{"Строгино", 55.8000, 37.4050, outer, []string{"Строгинский б-р", "ул. Кулакова", "ул. Маршала Катукова", "ул. Твардовского"}},
	{"Щукино", 55.8030, 37.4750, outer, []string{"ул. Маршала Бирюзова", "ул. Рогова", "Щукинская ул.", "ул. Живописная"}},
	{"Тушино", 55.8330, 37.4400, outer, []string{"Волоколамское ш.", "ул. Свободы", "Сходненская ул.", "б-р Яна Райниса"}},
	{"Митино", 55.8450, 37.3950, outer, []string{"Пятницкое ш.", "Митинская ул.", "ул. Барышиха", "Дубравная ул."}},
	{"Ховрино", 55.8650, 37.4950, outer, []string{"Фестивальная ул.", "ул. Дыбенко", "Ленинградское ш.", "Зеленоградская ул."}},
	{"Бескудниково", 55.8650, 37.5550, outer, []string{"Бескудниковский б-р", "Дмитровское ш.", "ул. Селигерская", "Коровинское ш."}},
	{"Отрадное", 55.8630, 37.6050, outer, []string{"Алтуфьевское ш.", "ул. Декабристов", "Отрадная ул.", "ул. Хачатуряна"}},
	{"Бибирево", 55.8860, 37.6050, outer, []string{"ул. Пришвина", "ул. Плещеева", "Белозерская ул.", "Биберевская ул."}},
	{"Медведково", 55.8800, 37.6500, outer, []string{"Широкая ул.", "Полярная ул.", "Заревый пр.", "ул. Молодцова"}},
	{"Бабушкинский", 55.8680, 37.6700, outer, []string{"ул. Менжинского", "ул. Лётчика Бабушкина", "Енисейская ул.", "ул. Радужная"}},
	{"Свиблово", 55.8550, 37.6470, outer, []string{"ул. Снежная", "ул. Амундсена", "Лазоревый пр.", "ул. Седова"}},
	{"Ростокино", 55.8350, 37.6650, outer, []string{"ул. Бориса Галушкина", "Ярославская ул.", "пр-т Мира", "ул. Сельскохозяйственная"}},
	{"Гольяново", 55.8150, 37.8000, outer, []string{"Щёлковское ш.", "Амурская ул.", "Уссурийская ул.", "ул. Хабаровская"}},
	{"Новогиреево", 55.7530, 37.8150, outer, []string{"Свободный пр-т", "Зелёный пр-т", "Федеративный пр-т", "ул. Металлургов"}},
}

type business int

const (
	retail business = iota
	bank
	pharmacy
	restaurant
	businessCentre
)

// A site type: how a client of this business names its sites, how many it tends to
// have, how much equipment stands in each, which equipment, and where in the city.
type businessProfile struct {
	siteWeight  float64    // relative number of sites per client
	assetWeight float64    // relative number of assets per site
	core        []string   // the first assets at every site, in order
	mix         []weighted // further assets
	zones       [3]float64 // weights of central, middle, outer districts
	policy      int        // index into policies
	calendar    int        // index into calendars
}

type weighted struct {
	value  string
	weight float64
}

var profiles = map[business]businessProfile{
	retail: {
		siteWeight: 14, assetWeight: 8,
		core:  []string{"refrigeration", "cash_register", "hvac", "fire_alarm", "refrigeration", "cash_register", "refrigeration"},
		mix:   []weighted{{"refrigeration", 5}, {"cash_register", 3}, {"hvac", 1.5}, {"generator", 0.5}, {"cctv", 0.8}},
		zones: [3]float64{1, 3, 5}, policy: 1, calendar: 0,
	},
	bank: {
		siteWeight: 16, assetWeight: 3.5,
		core:  []string{"atm", "hvac", "fire_alarm", "cctv"},
		mix:   []weighted{{"atm", 3}, {"hvac", 1}, {"access_control", 1}, {"generator", 0.5}},
		zones: [3]float64{4, 3, 2}, policy: 2, calendar: 1,
	},
	pharmacy: {
		siteWeight: 10, assetWeight: 3,
		core:  []string{"cash_register", "refrigeration", "hvac"},
		mix:   []weighted{{"cash_register", 2}, {"refrigeration", 1}, {"fire_alarm", 1}},
		zones: [3]float64{1, 3, 5}, policy: 0, calendar: 0,
	},
	restaurant: {
		siteWeight: 6, assetWeight: 6,
		core:  []string{"kitchen_equipment", "refrigeration", "hvac", "cash_register", "fire_alarm", "kitchen_equipment"},
		mix:   []weighted{{"kitchen_equipment", 3}, {"refrigeration", 3}, {"hvac", 1}},
		zones: [3]float64{5, 3, 1}, policy: 0, calendar: 0,
	},
	businessCentre: {
		siteWeight: 2, assetWeight: 20,
		core:  []string{"elevator", "elevator", "hvac", "fire_alarm", "generator", "access_control", "cctv", "elevator", "hvac"},
		mix:   []weighted{{"elevator", 3}, {"hvac", 3}, {"access_control", 1}, {"cctv", 1}, {"fire_alarm", 1}},
		zones: [3]float64{6, 3, 1}, policy: 1, calendar: 1,
	},
}

type clientTemplate struct {
	name     string // legal name as it appears in documents
	slug     string // Latin, for e-mail domains
	business business
	site     string // site name prefix: "Магазин", "Дополнительный офис", "БЦ «…»"
}

// clientTemplates interleave the businesses, so any prefix is a realistic mix.
var clientTemplates = []clientTemplate{
	{`ООО "Продукты у дома"`, "produkty-u-doma", retail, "Магазин"},
	{`АО Банк "Столичный кредит"`, "stolichny-kredit", bank, "Дополнительный офис"},
	{`ООО "Аптеки Здоровье"`, "apteki-zdorovye", pharmacy, "Аптека"},
	{`ООО "Трактир Самовар"`, "traktir-samovar", restaurant, "Трактир"},
	{`АО "Бизнес-центр Северная башня"`, "severnaya-bashnya", businessCentre, "Северная башня"},
	{`ООО "Свежий квартал"`, "svezhiy-kvartal", retail, "Супермаркет"},
	{`ПАО "Городской расчётный банк"`, "gorodskoy-bank", bank, "Дополнительный офис"},
	{`ООО "Фарма-Лайн"`, "farma-line", pharmacy, "Аптека"},
	{`ООО "Кофейня Зерно"`, "kofeynya-zerno", restaurant, "Кофейня"},
	{`ООО "Гастроном на углу"`, "gastronom-na-uglu", retail, "Гастроном"},
	{`АО КБ "Тверской"`, "kb-tverskoy", bank, "Операционный офис"},
	{`ООО "УК Садовое кольцо"`, "uk-sadovoe-koltso", businessCentre, "Садовая плаза"},
	{`ООО "Аптека Ромашка"`, "apteka-romashka", pharmacy, "Аптека"},
	{`ООО "Сибирская пельменная"`, "sibirskaya-pelmennaya", restaurant, "Пельменная"},
	{`ООО "Торговая сеть Семейный"`, "ts-semeyny", retail, "Магазин"},
	{`АО Банк "Народный капитал"`, "narodny-kapital", bank, "Дополнительный офис"},
	{`ООО "Аптеки Столицы"`, "apteki-stolitsy", pharmacy, "Аптека"},
	{`ООО "Ресторанная группа Волга"`, "rg-volga", restaurant, "Ресторан"},
	{`ООО "Бизнес-парк Крылатский"`, "bp-krylatsky", businessCentre, "Крылатский"},
	{`ООО "Ближний маркет"`, "blizhniy-market", retail, "Минимаркет"},
	{`АО "Инвестбанк Меридиан"`, "meridian-bank", bank, "Дополнительный офис"},
	{`ООО "Ваш доктор"`, "vash-doktor", pharmacy, "Аптечный пункт"},
	{`ООО "Блинная Масленица"`, "blinnaya-maslenitsa", restaurant, "Блинная"},
	{`АО "Даниловский форт"`, "danilovsky-fort", businessCentre, "Даниловский форт"},
	{`ООО "Фермерская лавка"`, "fermerskaya-lavka", retail, "Лавка"},
	{`АО "Банк развития столицы"`, "bank-razvitiya", bank, "Дополнительный офис"},
	{`ООО "Аптека Добрый день"`, "dobry-den", pharmacy, "Аптека"},
	{`ООО "Грузинский дворик"`, "gruzinsky-dvorik", restaurant, "Ресторан"},
	{`ООО "УК Технопарк Нагатино"`, "tekhnopark-nagatino", businessCentre, "Технопарк Нагатино"},
	{`ООО "Маркет 24"`, "market-24", retail, "Магазин"},
}

type model struct {
	manufacturer, model, serialPrefix string
	only                              []business // nil: any business
}

var (
	shops         = []business{retail}
	kitchens      = []business{restaurant}
	shopsKitchens = []business{retail, restaurant}
	pharmacies    = []business{pharmacy}
)

// catalog lists the equipment each asset type is made of: real manufacturers and models
// common in Moscow's service contracts.
var catalog = map[string][]model{
	"refrigeration": {
		{"Carrier", "Ariana 3 Open 250", "CR", shops}, {"Danfoss", "Optyma Plus OP-MPGM068", "DF", shopsKitchens},
		{"Bitzer", "Ecoline 4FES-5Y", "BZ", shops}, {"Ариада", "Рио Н-1250", "AR", shops},
		{"Polair", "ШХ-0,7", "PL", shopsKitchens}, {"Polair", "TM2-G", "PT", kitchens},
		{"Liebherr", "FKv 4140", "LH", kitchens}, {"Liebherr", "MKv 3910", "LM", pharmacies},
		{"Pozis", "ХФ-400-2", "PZ", pharmacies},
	},
	"elevator": {
		{"Otis", "Gen2 Comfort", "OT", nil}, {"KONE", "MonoSpace 500", "KN", nil},
		{"Schindler", "3300", "SC", nil}, {"ЩЛЗ", "ПП-0611Ш", "SL", nil}, {"Могилевлифтмаш", "ЛП-0621", "ML", nil},
	},
	"cash_register": {
		{"Атол", "30Ф", "AT", nil}, {"Атол", "Sigma 10", "AS", nil}, {"Штрих-М", "Штрих-М-01Ф", "SM", nil},
		{"Штрих-М", "Штрих-Лайт-02Ф", "SH", nil}, {"Эвотор", "7.2", "EV", nil}, {"Меркурий", "185Ф", "MR", nil},
	},
	"hvac": {
		{"Daikin", "FTXM35R", "DK", nil}, {"Daikin", "VRV IV RXYQ10T", "DV", nil},
		{"Mitsubishi Electric", "PUHZ-ZRP100VKA", "ME", nil}, {"Mitsubishi Electric", "MSZ-LN35VG", "MS", nil},
		{"Carrier", "42QHC012D8S", "CH", nil}, {"Systemair", "Topvex FR06", "SY", nil},
	},
	"generator": {
		{"Cummins", "C110 D5", "CU", nil}, {"FG Wilson", "P110-3", "FG", nil}, {"SDMO", "J130K", "SD", nil}, {"Aksa", "AD 110", "AK", nil},
	},
	"fire_alarm": {
		{"Болид", "С2000-М", "BL", nil}, {"Болид", "Сигнал-20П", "BS", nil}, {"Рубеж", "Рубеж-2ОП", "RB", nil},
		{"Bosch", "FPA-1000", "BO", nil}, {"Аргус-Спектр", "Стрелец-Интеграл", "AG", nil},
	},
	"atm": {
		{"NCR", "SelfServ 84", "NC", nil}, {"NCR", "SelfServ 22e", "NE", nil},
		{"Diebold Nixdorf", "DN Series 200", "DN", nil}, {"Diebold Nixdorf", "CINEO C4060", "CI", nil}, {"GRG Banking", "H68N", "GR", nil},
	},
	"kitchen_equipment": {
		{"Rational", "iCombi Pro 10-1/1", "RT", nil}, {"Rational", "SelfCookingCenter 101", "RS", nil},
		{"Unox", "XEVC-0711-EPR", "UX", nil}, {"Winterhalter", "PT-M", "WH", nil}, {"Abat", "ПКА 10-1/1ПМ2", "AB", nil},
	},
	"cctv": {
		{"Hikvision", "DS-7616NI-K2", "HK", nil}, {"Dahua", "NVR4216-4KS2", "DH", nil}, {"Trassir", "MiniNVR AF 16", "TR", nil},
	},
	"access_control": {
		{"PERCo", "TTR-10A", "PC", nil}, {"PERCo", "ST-11", "PS", nil}, {"Болид", "С2000-2", "BC", nil},
	},
}

// skillDefs are the qualifications engineers hold and tickets require.
var skillDefs = []struct{ code, name string }{
	{"refrigeration", "Холодильное оборудование"},
	{"elevators", "Лифты и эскалаторы"},
	{"cash_registers", "Кассовое оборудование и банкоматы"},
	{"hvac", "Кондиционирование и вентиляция"},
	{"electrical", "Электромонтажные работы"},
	{"plumbing", "Сантехника"},
	{"fire_safety", "Пожарная сигнализация"},
	{"access_control", "СКУД"},
	{"it_network", "ИТ и сети"},
	{"kitchen_equipment", "Технологическое оборудование кухни"},
	{"generators", "Дизель-генераторы и ИБП"},
	{"cctv", "Видеонаблюдение"},
}

// related are the skills a specialist in the key skill most often also holds.
var related = map[string][]string{
	"refrigeration":     {"hvac", "electrical", "kitchen_equipment"},
	"elevators":         {"electrical", "access_control"},
	"cash_registers":    {"it_network", "cctv"},
	"hvac":              {"refrigeration", "electrical", "plumbing"},
	"electrical":        {"generators", "hvac", "fire_safety"},
	"plumbing":          {"hvac", "kitchen_equipment", "electrical"},
	"fire_safety":       {"access_control", "cctv", "electrical"},
	"access_control":    {"cctv", "fire_safety", "it_network"},
	"it_network":        {"cash_registers", "cctv", "access_control"},
	"kitchen_equipment": {"refrigeration", "plumbing", "electrical"},
	"generators":        {"electrical", "hvac"},
	"cctv":              {"access_control", "it_network", "fire_safety"},
}

// A fault or request as a client files it. severity picks the priority weights (see
// severities); only, when set, limits it to those businesses.
type problem struct {
	kind, severity, title, description string
	skills                             []string
	only                               []business
}

// severities weight the priorities a client chooses for a kind of problem: across the
// catalogue normal is by far the most common.
var severities = map[string][]weighted{
	"routine":  {{"low", 70}, {"normal", 30}},
	"minor":    {{"low", 30}, {"normal", 60}, {"high", 10}},
	"usual":    {{"low", 10}, {"normal", 68}, {"high", 18}, {"critical", 4}},
	"urgent":   {{"normal", 35}, {"high", 50}, {"critical", 15}},
	"critical": {{"high", 20}, {"critical", 80}},
}

// problems by asset type; the "" key holds site-level ones filed without an asset.
var problems = map[string][]problem{
	"refrigeration": {
		{"incident", "usual", "Не охлаждает витрина", "Витрина в молочном отделе не держит температуру, на табло +12 °C. Товар переложили в камеру.", []string{"refrigeration"}, shops},
		{"incident", "urgent", "Холодильная камера не держит температуру", "В камере −8 °C вместо −18 °C, компрессор работает без остановки.", []string{"refrigeration"}, shopsKitchens},
		{"incident", "usual", "Не охлаждает холодильный стол", "Холодильный стол в горячем цехе держит +14 °C, заготовки переложили в камеру.", []string{"refrigeration"}, kitchens},
		{"incident", "usual", "Наледь на испарителе", "На испарителе толстый слой льда, оттайка не помогает, течёт вода на пол.", []string{"refrigeration"}, shopsKitchens},
		{"incident", "usual", "Компрессор шумит и отключается", "Агрегат гудит, через несколько минут срабатывает автомат.", []string{"refrigeration", "electrical"}, nil},
		{"incident", "urgent", "Фармацевтический холодильник не держит режим", "Термометр показывает +11 °C вместо +2…+8 °C, препараты переложили в резервный холодильник.", []string{"refrigeration"}, pharmacies},
		{"request", "routine", "Плановая проверка давления фреона", "Просим проверить давление и утечки перед сменой ассортимента.", []string{"refrigeration"}, shops},
	},
	"elevator": {
		{"incident", "critical", "Лифт остановился между этажами", "Кабина остановилась между 4 и 5 этажами, пассажиров эвакуировали, лифт отключён.", []string{"elevators"}, nil},
		{"incident", "urgent", "Не закрываются двери лифта", "Двери кабины открываются и закрываются повторно, лифт не едет.", []string{"elevators"}, nil},
		{"incident", "usual", "Лифт не реагирует на вызов с этажа", "На 3 этаже не работает кнопка вызова, на остальных этажах лифт вызывается.", []string{"elevators", "electrical"}, nil},
		{"incident", "minor", "Рывки при остановке кабины", "Арендаторы жалуются на резкое торможение кабины.", []string{"elevators"}, nil},
	},
	"cash_register": {
		{"incident", "urgent", "Касса не печатает чеки", "Касса зависает на печати чека, покупатели ждут.", []string{"cash_registers"}, nil},
		{"incident", "usual", "Ошибка связи с ОФД", "Касса пишет, что чеки не переданы в ОФД больше суток.", []string{"cash_registers", "it_network"}, nil},
		{"incident", "usual", "Не работает сканер штрихкодов", "Сканер на кассе не считывает штрихкоды, вводим вручную.", []string{"cash_registers"}, nil},
		{"request", "routine", "Замена фискального накопителя", "Срок ФН истекает через неделю, просим заменить.", []string{"cash_registers"}, nil},
	},
	"hvac": {
		{"incident", "usual", "Кондиционер не охлаждает", "Кондиционер включается, но из внутреннего блока идёт тёплый воздух.", []string{"hvac"}, nil},
		{"incident", "usual", "Течь из внутреннего блока", "Из внутреннего блока капает вода на стол, подставили ведро.", []string{"hvac"}, nil},
		{"incident", "usual", "Приточная установка в аварии", "На пульте приточной установки ошибка, в помещении душно.", []string{"hvac", "electrical"}, nil},
		{"request", "routine", "Замена фильтров вентиляции", "Просим заменить фильтры в приточной установке по графику.", []string{"hvac"}, nil},
	},
	"generator": {
		{"incident", "urgent", "ДГУ не запускается при тесте", "При еженедельной проверке генератор не запустился, стартер крутит.", []string{"generators"}, nil},
		{"incident", "urgent", "Не переключается АВР на генератор", "При отключении сети АВР не перевёл нагрузку на ДГУ.", []string{"generators", "electrical"}, nil},
		{"request", "routine", "Доливка топлива и проверка ДГУ", "Просим долить топливо и провести осмотр перед зимой.", []string{"generators"}, nil},
	},
	"fire_alarm": {
		{"incident", "usual", "Ложные срабатывания пожарной сигнализации", "Сигнализация срабатывает по ночам без причины, уже трижды за неделю.", []string{"fire_safety"}, nil},
		{"incident", "urgent", "Неисправность шлейфа на приборе", "Прибор показывает «Неисправность» шлейфа 3, сигнализация в зоне не работает.", []string{"fire_safety"}, nil},
		{"request", "routine", "Проверка пожарной сигнализации", "Просим провести ежеквартальную проверку и оформить акт.", []string{"fire_safety"}, nil},
	},
	"atm": {
		{"incident", "urgent", "Банкомат не выдаёт наличные", "Банкомат списывает операцию, но купюры не выдаёт, клиенты жалуются.", []string{"cash_registers"}, nil},
		{"incident", "urgent", "Банкомат не на связи с процессингом", "Банкомат показывает «Технический перерыв», нет связи с процессингом.", []string{"it_network"}, nil},
		{"incident", "usual", "Замятие карты в картоприёмнике", "Картоприёмник не возвращает карты, две карты застряли.", []string{"cash_registers"}, nil},
	},
	"kitchen_equipment": {
		{"incident", "urgent", "Пароконвектомат выдаёт ошибку нагрева", "На дисплее ошибка нагрева, камера не выходит на температуру.", []string{"kitchen_equipment", "electrical"}, nil},
		{"incident", "usual", "Не работает посудомоечная машина", "Машина не набирает воду, на дисплее ошибка.", []string{"kitchen_equipment", "plumbing"}, nil},
		{"consultation", "routine", "Консультация по программе мойки пароконвектомата", "Просим подсказать, какую программу мойки использовать и какие таблетки.", []string{"kitchen_equipment"}, nil},
	},
	"cctv": {
		{"incident", "usual", "Нет изображения с камер в зале", "С четырёх камер в зале нет изображения на мониторе охраны.", []string{"cctv"}, nil},
		{"incident", "usual", "Видеорегистратор не пишет архив", "Архив за последние двое суток пустой, регистратор пишет ошибку диска.", []string{"cctv", "it_network"}, nil},
	},
	"access_control": {
		{"incident", "usual", "Турникет не считывает пропуска", "Турникет на входе не реагирует на карты, пропускаем вручную.", []string{"access_control"}, nil},
		{"incident", "usual", "Дверь не открывается по карте", "Дверь служебного входа не открывается по пропуску.", []string{"access_control", "electrical"}, nil},
		{"request", "routine", "Добавить пропуска новых сотрудников", "Просим внести в систему пять новых пропусков.", []string{"access_control"}, nil},
	},
	"": {
		{"incident", "urgent", "Протечка в санузле", "Течёт подводка к раковине в санузле для персонала, перекрыли кран.", []string{"plumbing"}, nil},
		{"incident", "usual", "Не работает освещение в зале", "В половине зала не горят светильники, автоматы включены.", []string{"electrical"}, nil},
		{"incident", "urgent", "Нет интернета на объекте", "С утра нет интернета, не работают терминалы оплаты картой.", []string{"it_network"}, nil},
		{"incident", "usual", "Выбивает автомат в электрощите", "Автомат группы розеток выбивает несколько раз в день.", []string{"electrical"}, nil},
		{"request", "routine", "Установить дополнительные розетки", "Просим установить две розетки у новой стойки.", []string{"electrical"}, nil},
	},
}

// fits reports whether something limited to only is at home in business b.
func fits(only []business, b business) bool {
	if only == nil {
		return true
	}
	for _, x := range only {
		if x == b {
			return true
		}
	}
	return false
}

var maleSurnames = []string{
	"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
	"Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
	"Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
	"Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
	"Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
	"Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров",
	"Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
	"Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
	"Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Быков", "Маслов", "Родионов",
	"Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов",
	"Журавлёв", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Котов",
	"Гришин", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев",
	"Бирюков", "Горбунов", "Анисимов", "Галкин", "Лукьянов", "Скворцов", "Белоусов", "Нестеров", "Симонов", "Цветков",
	"Покровский", "Вишневский", "Островский", "Успенский", "Рождественский",
}

var maleNames = []string{
	"Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Виктор", "Владимир",
	"Григорий", "Денис", "Дмитрий", "Евгений", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Максим",
	"Михаил", "Николай", "Олег", "Павел", "Роман", "Сергей", "Станислав", "Фёдор", "Юрий", "Ярослав",
}

var malePatronymics = []string{
	"Александрович", "Алексеевич", "Андреевич", "Викторович", "Владимирович", "Дмитриевич", "Евгеньевич",
	"Иванович", "Игоревич", "Михайлович", "Николаевич", "Олегович", "Павлович", "Петрович", "Сергеевич", "Юрьевич",
}

var femaleNames = []string{
	"Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Екатерина", "Юлия",
	"Марина", "Дарья", "Ксения", "Алина", "Виктория", "Людмила", "Валентина", "Полина",
}

var femalePatronymics = []string{
	"Александровна", "Алексеевна", "Андреевна", "Викторовна", "Владимировна", "Дмитриевна", "Евгеньевна",
	"Игоревна", "Михайловна", "Николаевна", "Олеговна", "Павловна", "Сергеевна", "Юрьевна",
}

var translitTable = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i",
	'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "",
	'э': "e", 'ю': "yu", 'я': "ya",
}
