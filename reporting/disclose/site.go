package disclose

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"

	"qiandun/internal/csvsafe"
)

// ManifestName is each month's manifest.
const ManifestName = "manifest.json"

// Manifest describes one published month.
type Manifest struct {
	Month      string `json:"month"`
	MonthEnd   string `json:"month_end"`
	StatusAsOf string `json:"status_as_of"` // the repayment status's "to date"
	Projects   int    `json:"projects"`
	Metrics    int    `json:"metrics"`
	Rows       int    `json:"rows"` // records written: metrics + projects (the pipeline summary's rows)
	LentAmount string `json:"cumulative_lent_amount"`
	// Identities: how the borrowers' names, ID numbers and phones were
	// obtained (the vault) and published (masked).
	Identities string      `json:"identities"`
	Files      []FileEntry `json:"files"`
}

// FileEntry is one published file of a month.
type FileEntry struct {
	Name   string `json:"name"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// render writes a month's files, by path relative to the month's
// directory (operating.csv, projects.jsonl, index.html,
// projects/<id>.html, then manifest.json), each through a file create
// opens, one at a time: a month of a large book never holds its pages
// in memory. It returns the manifest (every file but itself, by name,
// with its size and SHA-256) and the manifest's bytes.
func render(month string, d *monthData, projects []Project, create func(rel string) (io.WriteCloser, error)) (*Manifest, []byte, error) {
	m := &Manifest{Month: month, MonthEnd: d.MonthEnd, StatusAsOf: d.DataEnd, Projects: len(projects),
		Metrics: len(d.Metrics), Rows: len(d.Metrics) + len(projects), Identities: "vault, masked"}
	for _, x := range d.Metrics {
		if x.Name == "cumulative_lent_amount" {
			m.LentAmount = x.Value
		}
	}
	var files []FileEntry
	bw := bufio.NewWriterSize(nil, 64<<10) // one buffer for every file
	put := func(rel string, write func(w io.Writer) error) error {
		f, err := create(rel)
		if err != nil {
			return fmt.Errorf("disclose: %w", err)
		}
		h, n := sha256.New(), &countWriter{}
		bw.Reset(io.MultiWriter(f, h, n))
		err = write(bw)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("disclose: %w", cerr)
		}
		if err != nil {
			return err
		}
		files = append(files, FileEntry{Name: rel, Bytes: n.n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	err := put("operating.csv", func(w io.Writer) error { return operatingCSV(w, d.Metrics) })
	if err == nil {
		err = put("projects.jsonl", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, p := range projects {
				if err := enc.Encode(p); err != nil {
					return fmt.Errorf("disclose: %s: %w", p.LoanID, err)
				}
			}
			return nil
		})
	}
	if err == nil {
		err = put("index.html", func(w io.Writer) error {
			return execute(w, monthTmpl, monthView{M: m, Metrics: d.Metrics, Projects: projects})
		})
	}
	for _, p := range projects {
		if err != nil {
			break
		}
		err = put("projects/"+pageName(p.LoanID), func(w io.Writer) error {
			return execute(w, projectTmpl, projectView{Month: month, P: p})
		})
	}
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	m.Files = files
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	mb = append(mb, '\n')
	if err := put(ManifestName, func(w io.Writer) error { _, err := w.Write(mb); return err }); err != nil {
		return nil, nil, err
	}
	return m, mb, nil
}

// countWriter counts the bytes written through it.
type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// OperatingColumns is operating.csv's header.
var OperatingColumns = []string{"metric", "value", "unit", "definition"}

func operatingCSV(out io.Writer, ms []Metric) error {
	w := csv.NewWriter(out)
	w.Write(OperatingColumns)
	for _, m := range ms {
		w.Write(csvsafe.Record([]string{m.Name, m.Value, m.Unit, m.Definition}))
	}
	w.Flush()
	return w.Error()
}

type monthView struct {
	M        *Manifest
	Metrics  []Metric
	Projects []Project
}

type projectView struct {
	Month string
	P     Project
}

type indexView struct {
	Months []*Manifest // newest first
}

func execute(w io.Writer, t *template.Template, v any) error {
	if err := t.Execute(w, v); err != nil {
		return fmt.Errorf("disclose: page: %w", err)
	}
	return nil
}

// renderIndex is the site's index: every published month, newest first.
func renderIndex(months []*Manifest) ([]byte, error) {
	sort.Slice(months, func(i, j int) bool { return months[i].Month > months[j].Month })
	var b bytes.Buffer
	err := execute(&b, indexTmpl, indexView{Months: months})
	return b.Bytes(), err
}

var funcs = template.FuncMap{"page": pageName}

// The pages: one inline style sheet, no script, no external resource.
const head = `<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{template "title" .}}</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;border-bottom:2px solid #0072b2;padding-bottom:.3em}h2{font-size:1.15em;margin-top:1.6em;color:#0072b2}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}p.note{color:#555;font-size:.9em}
nav a{margin-right:1em}dl{display:grid;grid-template-columns:16em 1fr;gap:.2em 1em}dt{color:#555}dd{margin:0}
</style></head><body>
`

const foot = `<p class="note">本页由 qiandun disclose 生成；借款人身份按规定脱敏 — borrowers' identities masked (name keeps the family name, ID number and phone the first 3 and last 4 characters).</p>
</body></html>
`

var indexTmpl = template.Must(template.New("index").Funcs(funcs).Parse(head + `{{define "title"}}信息披露 Information disclosure{{end}}
<h1>信息披露 Information disclosure</h1>
<p>按月披露的运营信息与项目信息 — monthly operating data and project disclosure.</p>
<table><thead><tr><th>月份 month</th><th>截至 as of</th><th>当月项目 projects</th><th>累计借贷金额 cumulative lent (CNY)</th><th>还款状态截至 repayment status as of</th></tr></thead><tbody>
{{range .Months}}<tr><td><a href="{{.Month}}/index.html">{{.Month}}</a></td><td>{{.MonthEnd}}</td><td class="n">{{.Projects}}</td><td class="n">{{.LentAmount}}</td><td>{{.StatusAsOf}}</td></tr>
{{end}}</tbody></table>
` + foot))

var monthTmpl = template.Must(template.New("month").Funcs(funcs).Parse(head + `{{define "title"}}信息披露 {{.M.Month}}{{end}}
<nav><a href="../index.html">← 全部月份 all months</a><a href="operating.csv">operating.csv</a><a href="projects.jsonl">projects.jsonl</a></nav>
<h1>信息披露 {{.M.Month}} — Information disclosure</h1>
<h2>运营信息 Operating data (截至 as of {{.M.MonthEnd}})</h2>
<table><thead><tr><th>指标 metric</th><th>值 value</th><th>单位 unit</th><th>定义 definition</th></tr></thead><tbody>
{{range .Metrics}}<tr><td>{{.Name}}</td><td class="n">{{.Value}}</td><td>{{.Unit}}</td><td>{{.Definition}}</td></tr>
{{end}}</tbody></table>
<h2>项目信息 Projects issued in {{.M.Month}} ({{len .Projects}})</h2>
{{if .Projects}}<table><thead><tr><th>项目 project</th><th>发放日 issued</th><th>借款人 borrower</th><th>金额 amount</th><th>期限 term</th><th>年利率 rate</th><th>用途 purpose</th><th>出借人 lenders</th><th>状态 status ({{.M.StatusAsOf}})</th></tr></thead><tbody>
{{range .Projects}}<tr><td><a href="projects/{{page .LoanID}}">{{.LoanID}}</a></td><td>{{.IssueDate}}</td><td>{{.Borrower.Name}}</td><td class="n">{{.Loan.Amount}}</td><td class="n">{{.Loan.TermMonths}}</td><td class="n">{{.Loan.AnnualRate}}</td><td>{{.Loan.Purpose}}</td><td class="n">{{.Lenders}}</td><td>{{.Repayment.Status}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No loan was issued in this month.</p>{{end}}
` + foot))

var projectTmpl = template.Must(template.New("project").Funcs(funcs).Parse(head + `{{define "title"}}项目 {{.P.LoanID}}{{end}}
<nav><a href="../index.html">← {{.Month}}</a><a href="../../index.html">全部月份 all months</a></nav>
{{with .P}}<h1>项目 Project {{.LoanID}}</h1>
<h2>借款人 Borrower</h2>
<dl><dt>姓名 name</dt><dd>{{.Borrower.Name}}</dd><dt>身份证号 ID number</dt><dd>{{.Borrower.IDNumber}}</dd><dt>手机 phone</dt><dd>{{.Borrower.Phone}}</dd>
<dt>年龄 age</dt><dd>{{.Borrower.AgeBand}}</dd><dt>性别 gender</dt><dd>{{.Borrower.Gender}}</dd><dt>地区 region</dt><dd>{{.Borrower.Region}}</dd>
<dt>月收入 monthly income (CNY)</dt><dd>{{.Borrower.IncomeBand}}</dd></dl>
<h2>征信 Credit (6 months before issue)</h2>
<dl><dt>最近征信报告 latest bureau report</dt><dd>{{if .Credit.ReportDate}}{{.Credit.ReportDate}}{{else}}none{{end}}</dd>
<dt>未结清账户 open accounts</dt><dd>{{.Credit.OpenAccounts}}</dd><dt>负债 debt (CNY)</dt><dd>{{.Credit.Debt}}</dd>
<dt>逾期账户 overdue accounts</dt><dd>{{.Credit.OverdueAccounts}}</dd><dt>24个月最差状态 worst status 24m</dt><dd>{{.Credit.WorstStatus24m}}</dd>
<dt>报告数 / 有逾期 reports / with overdue</dt><dd>{{.Credit.Reports6m}} / {{.Credit.OverdueReports6m}}</dd>
<dt>其他平台借款查询 other-platform inquiries</dt><dd>P2P {{.Credit.InquiriesP2P}}, 小贷 microloan {{.Credit.InquiriesMicroloan}}</dd></dl>
<h2>借款 Loan</h2>
<dl><dt>发放日 issued</dt><dd>{{.IssueDate}}</dd><dt>用途 purpose</dt><dd>{{.Loan.Purpose}}</dd><dt>金额 amount (CNY)</dt><dd>{{.Loan.Amount}}</dd>
<dt>期限 term (months)</dt><dd>{{.Loan.TermMonths}}</dd><dt>年利率 annual rate</dt><dd>{{.Loan.AnnualRate}}</dd><dt>还款方式 repayment</dt><dd>{{.Loan.RepayMethod}}</dd>
<dt>抵押 collateral</dt><dd>{{.Loan.Collateral}}{{if .Loan.CollateralValue}}, 估值 valued {{.Loan.CollateralValue}}{{end}}</dd>
<dt>出借人数 lenders</dt><dd>{{.Lenders}} (出借 funded {{.Funded}})</dd></dl>
<h2>资金流向 Fund flow (custodian bank)</h2>
{{if .FundFlow}}<table><thead><tr><th>日期 date</th><th>类型 type</th><th>金额 amount (CNY)</th><th>存管银行 bank</th><th>借款人子账户 to sub-account</th></tr></thead><tbody>
{{range .FundFlow}}<tr><td>{{.Date}}</td><td>{{.Type}}</td><td class="n">{{.Amount}}</td><td>{{.Bank}}</td><td>{{.ToSubAccount}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No custody disbursement line for this loan.</p>{{end}}
<h2>还款情况 Repayment (截至 as of {{.Repayment.AsOf}})</h2>
<dl><dt>状态 status</dt><dd>{{.Repayment.Status}}</dd><dt>逾期天数 DPD</dt><dd>{{.Repayment.DPD}}</dd>
<dt>已还 / 应还期数 installments paid / due</dt><dd>{{.Repayment.InstallmentsPaid}} / {{.Repayment.InstallmentsDue}}</dd>
<dt>已还本金 principal repaid</dt><dd>{{.Repayment.PrincipalRepaid}}</dd><dt>剩余本金 outstanding</dt><dd>{{.Repayment.Outstanding}}</dd>
<dt>逾期金额 overdue</dt><dd>{{.Repayment.Overdue}}</dd></dl>{{end}}
` + foot))
