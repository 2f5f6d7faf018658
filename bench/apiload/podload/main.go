// Command podload creates pods through a kube-apiserver from a fixed number of concurrent
// clients over keep-alive connections, and prints one JSON object: the rate, latency
// percentiles and the status codes it got. bench_apiserver.py runs it.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Pods          int                `json:"pods"`
	Concurrency   int                `json:"concurrency"`
	Seconds       float64            `json:"seconds"`
	PodsPerSecond float64            `json:"pods_per_second"`
	LatencyMs     map[string]float64 `json:"latency_ms"`
	Statuses      map[string]int     `json:"statuses"`
	FirstFailures []string           `json:"first_failures"`
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func main() {
	server := flag.String("server", "", "API server URL")
	caFile := flag.String("ca", "", "cluster CA (PEM)")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyFile := flag.String("key", "", "client key (PEM)")
	namespace := flag.String("namespace", "default", "namespace to create pods in")
	prefix := flag.String("prefix", "load", "pod name prefix")
	count := flag.Int("count", 500, "pods to create")
	concurrency := flag.Int("concurrency", 50, "concurrent clients")
	images := flag.String("images", "", "comma-separated container images")
	perPod := flag.Int("containers", 0, "containers per pod, taking the images in turn (0: one per image)")
	http1 := flag.Bool("http1", false, "use HTTP/1.1 keep-alive connections (one per client) instead of HTTP/2")
	flag.Parse()

	ca, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}},
		MaxIdleConnsPerHost: *concurrency,
		MaxConnsPerHost:     *concurrency,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   !*http1,
	}
	if *http1 {
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	names := strings.Split(*images, ",")
	if *perPod <= 0 {
		*perPod = len(names)
	}
	containersOf := func(n int64) []map[string]string {
		containers := []map[string]string{}
		for k := 0; k < *perPod; k++ {
			image := names[(int(n)*(*perPod)+k)%len(names)]
			containers = append(containers, map[string]string{"name": fmt.Sprintf("c%d", k), "image": image})
		}
		return containers
	}
	url := fmt.Sprintf("%s/api/v1/namespaces/%s/pods", *server, *namespace)

	var next int64 = -1
	var mu sync.Mutex
	latencies := make([]time.Duration, 0, *count)
	statuses := map[string]int{}
	failures := []string{}
	var wg sync.WaitGroup
	started := time.Now()
	for c := 0; c < *concurrency; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := atomic.AddInt64(&next, 1)
				if n >= int64(*count) {
					return
				}
				pod := map[string]any{
					"apiVersion": "v1", "kind": "Pod",
					"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", *prefix, n)},
					"spec":     map[string]any{"containers": containersOf(n)},
				}
				body, _ := json.Marshal(pod)
				sent := time.Now()
				response, err := client.Post(url, "application/json", bytes.NewReader(body))
				took := time.Since(sent)
				status := "error"
				detail := ""
				if err == nil {
					status = fmt.Sprint(response.StatusCode)
					text, _ := io.ReadAll(response.Body)
					response.Body.Close()
					if response.StatusCode != http.StatusCreated {
						detail = string(text)
					}
				} else {
					detail = err.Error()
				}
				mu.Lock()
				latencies = append(latencies, took)
				statuses[status]++
				if detail != "" && len(failures) < 5 {
					if len(detail) > 300 {
						detail = detail[:300]
					}
					failures = append(failures, detail)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(started).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	out := result{
		Pods: *count, Concurrency: *concurrency, Seconds: elapsed,
		PodsPerSecond: float64(*count) / elapsed,
		LatencyMs: map[string]float64{
			"p50": percentile(latencies, 0.50), "p90": percentile(latencies, 0.90),
			"p99": percentile(latencies, 0.99), "max": percentile(latencies, 1),
		},
		Statuses: statuses, FirstFailures: failures,
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
